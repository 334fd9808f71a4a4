package io.shardschema.catalog;

import com.fasterxml.jackson.annotation.JsonIgnore;

import java.time.Instant;

/** A {@code shards} row. {@code dsn} is stored without a password. */
public record Shard(long id, String schemaName, String dsn, int version, String state, String task,
                    Instant lastTaskHb, int attempts, String serverKey) {

    /** How reports name this shard: id, schema and server. */
    @JsonIgnore
    public ShardName name() {
        return new ShardName(id, schemaName, serverKey);
    }
}
