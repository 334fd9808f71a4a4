package io.shardschema.catalog;

import java.time.Instant;

/** A {@code shards} row. {@code dsn} is stored without a password. */
public record Shard(long id, String schemaName, String dsn, int version, String state, String task,
                    Instant lastTaskHb, int attempts, String serverKey) {
}
