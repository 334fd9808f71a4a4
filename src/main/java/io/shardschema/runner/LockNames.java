package io.shardschema.runner;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** The names of the named locks runners take on shard servers; at most 64 characters, as the server allows. */
final class LockNames {
    private LockNames() {
    }

    /** The fence of a shard's task: the same for every runner of the catalog, different for every shard. */
    static String task(String catalogId, long shardId) {
        return digest("shardschema.task.", catalogId + "/" + shardId);
    }

    /** A table's lock: no two online runs work one table, whatever catalog or lease they hold. */
    static String table(String schema, String table) {
        return digest("shardschema.table.", schema + "." + table);
    }

    private static String digest(String prefix, String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return prefix + HexFormat.of().formatHex(digest, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
