package io.shardschema.catalog;

/**
 * A claimed task: the right to apply {@code targetVersion} (the next version after {@code fromVersion}; numbers may
 * have gaps) to one shard, held while {@code token} is in the shard's {@code task} column. Every write of the run
 * is fenced by that token. A worker may keep the lease for the shard's next version ({@link #continueWith}), so a
 * shard that is several versions behind costs one claim. {@code runningOnServer} is how many tasks ran on the
 * shard's server right after the claim, this one included: the per-server budget check.
 * <p>
 * A shard pinned by {@code down --to} ({@code pinnedAt} not null) above its pin goes down instead: the task rolls
 * back {@code targetVersion} (the shard's version) and leaves the shard at {@code previousVersion}.
 */
public record Lease(String token, long shardId, String schemaName, String shardDsn, String serverKey,
                    int fromVersion, int targetVersion, int attempts, boolean takeover, int runningOnServer,
                    Integer pinnedAt, int previousVersion) {

    /** Whether the task rolls {@code targetVersion} back. */
    public boolean down() {
        return pinnedAt != null && fromVersion > pinnedAt;
    }

    /** The shard's version once the task is done. */
    public int resultVersion() {
        return down() ? previousVersion : targetVersion;
    }

    /** Whether the worker may go on with {@code nextVersion} under this lease: going up, and not past a pin. */
    public boolean mayContinueWith(int nextVersion) {
        return nextVersion > 0 && !down() && (pinnedAt == null || nextVersion <= pinnedAt);
    }

    /** The same lease, kept after {@code targetVersion} landed, for the shard's next version. */
    public Lease continueWith(int nextVersion) {
        return new Lease(token, shardId, schemaName, shardDsn, serverKey, targetVersion, nextVersion, 0, false,
                runningOnServer, pinnedAt, targetVersion);
    }
}
