package io.shardschema.schema;

/** Identifier quoting: every name that goes into SQL text passes through here; values always use bind parameters. */
public final class Sql {
    private Sql() {
    }

    public static String quote(String identifier) {
        return "`" + identifier.replace("`", "``") + "`";
    }

    /** A table name made from parts, within MySQL's 64 characters: a long one keeps its start and a hash of the whole. */
    public static String tableName(String name) {
        if (name.length() <= 64) {
            return name;
        }
        String hash = Integer.toHexString(name.hashCode());
        return name.substring(0, 63 - hash.length()) + "_" + hash;
    }
}
