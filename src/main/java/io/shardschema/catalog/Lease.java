package io.shardschema.catalog;

/**
 * A claimed task: the right to apply {@code fromVersion + 1} to one shard, held while {@code token} is in the
 * shard's {@code task} column. Every write that ends the task is fenced by that token.
 */
public record Lease(String token, long shardId, String schemaName, String shardDsn, String serverKey,
                    int fromVersion, int attempts, boolean takeover) {

    public int targetVersion() {
        return fromVersion + 1;
    }
}
