package io.shardschema.catalog;

import io.shardschema.Printable;

/**
 * A shard as reports name it: its id, its schema and its server (the server key of its stored DSN: {@code host:port},
 * or {@code unix:/path} for a socket). In JSON: {@code {"id", "schema", "server"}}.
 */
public record ShardName(long id, String schema, String server) {

    /** {@code shard 17 (app_017@10.0.3.87:3306)}: how text output names a shard, control characters escaped. */
    public String text() {
        return text(id, schema, server);
    }

    /**
     * {@code shard ID (schema@server)}, the one way every text report names a shard; names from outside are escaped
     * ({@link Printable#escape}). A shard the catalog no longer knows (no schema) is just {@code shard ID}.
     */
    public static String text(long id, String schema, String server) {
        if (schema == null) {
            return "shard " + id;
        }
        return "shard " + id + " (" + Printable.escape(schema) + "@" + Printable.escape(String.valueOf(server)) + ")";
    }

    /** {@code shard app_017@10.0.3.87:3306}: a shard declared but not registered yet (no id), escaped as above. */
    public static String unregistered(String schema, String server) {
        return "shard " + Printable.escape(schema) + "@" + Printable.escape(server);
    }

    @Override
    public String toString() {
        return text();
    }
}
