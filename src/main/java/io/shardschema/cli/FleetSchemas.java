package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Shard;
import io.shardschema.config.Config;
import io.shardschema.config.DataSources;
import io.shardschema.config.Dsn;
import io.shardschema.runner.ShardConnections;
import io.shardschema.schema.SchemaSnapshot;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Read-only work on many shards at once, with at most {@code threads} shards in flight and at most
 * perServerConcurrency connections to one server (the runner's own limits).
 */
final class FleetSchemas {
    private FleetSchemas() {
    }

    /** What is done on one shard's connection (its default schema is the shard's). */
    interface ShardWork<T> {
        T apply(Connection c) throws SQLException;
    }

    /** The work's result on one shard, or why it failed there. */
    record Read<T>(Shard shard, T value, String error) {
    }

    /** Every shard's schema (or only {@code table} of it). */
    static List<Read<SchemaSnapshot>> schemas(Config config, Dsn catalogDsn, List<Shard> shards, String table,
                                              int threads) {
        return all(config, catalogDsn, shards, threads, c -> SchemaSnapshot.read(c, c.getCatalog(), table));
    }

    /** The work on one shard; a failure is an error naming the shard. */
    static <T> T one(Config config, Dsn catalogDsn, Shard shard, ShardWork<T> work) {
        Read<T> read = all(config, catalogDsn, List.of(shard), 1, work).get(0);
        if (read.error() != null) {
            throw ShardSchemaException.error(shard.name().text() + ": " + read.error());
        }
        return read.value();
    }

    static <T> List<Read<T>> all(Config config, Dsn catalogDsn, List<Shard> shards, int threads, ShardWork<T> work) {
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(threads, shards.size())));
        try (ShardConnections connections = new ShardConnections(config, catalogDsn, config.perServerConcurrency())) {
            Map<Shard, Future<Read<T>>> reads = new LinkedHashMap<>();
            for (Shard s : shards) {
                reads.put(s, pool.submit(() -> read(connections, s, work)));
            }
            List<Read<T>> out = new ArrayList<>();
            for (Map.Entry<Shard, Future<Read<T>>> e : reads.entrySet()) {
                try {
                    out.add(e.getValue().get());
                } catch (java.util.concurrent.ExecutionException ex) {
                    out.add(new Read<>(e.getKey(), null, String.valueOf(ex.getCause())));
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while reading shards", ex);
                }
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    private static <T> Read<T> read(ShardConnections connections, Shard shard, ShardWork<T> work) {
        try (Connection c = connections.connect(shard.dsn(), shard.schemaName())) {
            return new Read<>(shard, work.apply(c), null);
        } catch (SQLException e) {
            return new Read<>(shard, null, DataSources.rootMessage(e));
        }
    }
}
