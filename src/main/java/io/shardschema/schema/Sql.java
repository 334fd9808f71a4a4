package io.shardschema.schema;

/** Identifier quoting: every name that goes into SQL text passes through here; values always use bind parameters. */
public final class Sql {
    private Sql() {
    }

    public static String quote(String identifier) {
        return "`" + identifier.replace("`", "``") + "`";
    }
}
