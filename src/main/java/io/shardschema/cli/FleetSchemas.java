package io.shardschema.cli;

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
 * Reads the schemas of many shards at once, with at most {@code threads} reads in flight and at most
 * perServerConcurrency connections to one server (the runner's own limits): read-only work.
 */
final class FleetSchemas {
    private FleetSchemas() {
    }

    /** A shard's schema, or why it could not be read. */
    record Read(Shard shard, SchemaSnapshot schema, String error) {
    }

    static Read one(Config config, Dsn catalogDsn, Shard shard, String table) {
        return all(config, catalogDsn, List.of(shard), table, 1).get(0);
    }

    static List<Read> all(Config config, Dsn catalogDsn, List<Shard> shards, String table, int threads) {
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(threads, shards.size())));
        try (ShardConnections connections = new ShardConnections(config, catalogDsn, config.perServerConcurrency())) {
            Map<Shard, Future<Read>> reads = new LinkedHashMap<>();
            for (Shard s : shards) {
                reads.put(s, pool.submit(() -> read(connections, s, table)));
            }
            List<Read> out = new ArrayList<>();
            for (Map.Entry<Shard, Future<Read>> e : reads.entrySet()) {
                try {
                    out.add(e.getValue().get());
                } catch (java.util.concurrent.ExecutionException ex) {
                    out.add(new Read(e.getKey(), null, String.valueOf(ex.getCause())));
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while reading schemas", ex);
                }
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    private static Read read(ShardConnections connections, Shard shard, String table) {
        try (Connection c = connections.connect(shard.dsn(), shard.schemaName())) {
            return new Read(shard, SchemaSnapshot.read(c, c.getCatalog(), table), null);
        } catch (SQLException e) {
            return new Read(shard, null, DataSources.rootMessage(e));
        }
    }
}
