package io.shardschema.runner;

import io.shardschema.catalog.Lease;
import io.shardschema.catalog.Version;

import java.sql.Connection;
import java.util.function.BooleanSupplier;

/**
 * One claim of one online task, as an {@link OnlineEngine} sees it: the lease and run, the version, the shard's
 * connection that holds the online slot and the table's lock ({@code slot}), whether the lease is still held, and
 * the run's output.
 */
record OnlineWork(Lease lease, int run, Version version, Connection slot, String schema, BooleanSupplier leaseHeld,
                  RunOutput out) {
    String table() {
        return version.tableName();
    }
}
