package io.shardschema.catalog;

/**
 * A claimed task: the right to apply {@code targetVersion} (the next version after {@code fromVersion}; numbers may
 * have gaps) to one shard, held while {@code token} is in the shard's {@code task} column. Every write of the run
 * is fenced by that token. {@code runningOnServer} is how many tasks ran on the shard's server right after the
 * claim, this one included: the per-server budget check.
 */
public record Lease(String token, long shardId, String schemaName, String shardDsn, String serverKey,
                    int fromVersion, int targetVersion, int attempts, boolean takeover, int runningOnServer) {
}
