package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Shard;
import io.shardschema.catalog.ShardName;
import io.shardschema.catalog.Version;
import io.shardschema.change.ChangeStatement;
import io.shardschema.config.DataSources;
import io.shardschema.config.Dsn;
import io.shardschema.runner.ShardConnections;
import io.shardschema.schema.Preflight;
import io.shardschema.schema.SchemaSnapshot;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Comparator;
import java.util.List;
import java.util.SortedMap;

/**
 * Runs a preflight for `preflight` and `version add`: picks the shard whose server hosts the scratch schema and the
 * tables the change starts from, which are the expected schema after the previous version when the catalog has
 * it (so versions chain from one known schema to the next), else that shard's own tables.
 */
final class VersionPreflight {
    /** The preflight's report, the shard whose server it ran on, and what its tables came from. */
    record Outcome(Host host, Preflight.Report report, String startingPoint) {
    }

    /**
     * A shard whose server hosts a preflight: a registered one ({@code id}), or one only declared so far (`apply`
     * preflights before it registers anything); {@code storedDsn} as the catalog holds it, so the preflight
     * connects as the runner will.
     */
    record Host(Long id, String schema, String storedDsn, String serverKey) {
        static Host of(Shard s) {
            return new Host(s.id(), s.schemaName(), s.dsn(), s.serverKey());
        }

        String label() {
            return id != null ? ShardName.text(id, schema, serverKey) : ShardName.unregistered(schema, serverKey);
        }
    }

    private VersionPreflight() {
    }

    /** Shard {@code shardId}, else a shard at version {@code previous} (its tables are the starting point), else the first. */
    static Host host(Context context, Long shardId, Version previous) {
        return Host.of(shardId != null ? context.catalog().requireShard(shardId)
                : defaultShard(context, previous == null ? null : previous.number()));
    }

    /**
     * Preflights {@code command} on {@code table} as it would run after {@code previous} (null: on the shard's
     * schema as it is), on {@code host}'s server, followed by the rollback {@code rollback} chooses.
     */
    static Outcome run(Context context, String table, String command, Version previous, Host host,
                       Preflight.RollbackChoice rollback) {
        boolean isAlter = !ChangeStatement.isWholeStatement(command);
        String statement = ChangeStatement.sql(table, command);
        // Again here: a registered version may predate the check (new commands pass it in normaliseCommand).
        ChangeStatement.checkStaysInSchema(statement);
        boolean fromExpected = previous != null && previous.expected().schemaAfter() != null;
        // A connection of its own, not a pooled one: the pool would discard it after the first algorithm the
        // server refuses (SQLSTATE 0A000 counts as fatal there).
        try (ShardConnections shards = new ShardConnections(context.config(), context.catalogDsn(), 1)) {
            Dsn dsn = shards.effective(host.storedDsn(), host.schema());
            try (Connection c = DataSources.connect(dsn)) {
                SortedMap<String, String> tables = fromExpected ? previous.expected().schemaAfter()
                        : SchemaSnapshot.read(c, c.getCatalog(), null).tables();
                Preflight.Report report = Preflight.run(c,
                        (user, password, database) -> DataSources.connect(dsn.withCredentials(user, password)
                                .withDatabase(database)), tables, statement, isAlter, rollback);
                return new Outcome(host, report, fromExpected ? "the expected schema after version "
                        + previous.number() : "the tables of " + host.label());
            }
        } catch (Preflight.DefinitionRefused e) {
            throw new ShardSchemaException(ShardSchemaException.REFUSED, "preflight on " + host.label() + ": "
                    + e.getMessage() + "\nnothing was written", e);
        } catch (SQLException | ShardSchemaException e) {
            throw ShardSchemaException.error("preflight on " + host.label() + ": " + DataSources.rootMessage(e)
                    + "; give --shard ID of a reachable shard (`version add` also takes --no-preflight)", e);
        }
    }

    /** A shard at version {@code at} (its tables are the starting point), else the first shard. */
    private static Shard defaultShard(Context context, Integer at) {
        List<Shard> all = context.catalog().shards();
        if (all.isEmpty()) {
            throw ShardSchemaException.usage("no shards are registered: a preflight needs a shard's server;"
                    + " register one first");
        }
        Comparator<Shard> byId = Comparator.comparingLong(Shard::id);
        int version = at == null ? 0 : at;
        return all.stream().filter(s -> s.version() == version).min(byId).orElse(all.stream().min(byId).orElseThrow());
    }

    /** How the algorithm reads in a report. */
    static String describe(Preflight.Algorithm algorithm) {
        return switch (algorithm) {
            case INSTANT -> "INSTANT (metadata only)";
            case INPLACE -> "INPLACE without a lock";
            case INPLACE_LOCKED -> "INPLACE with a lock (blocks writes; consider --type pt-osc)";
            case COPY -> "as a table COPY (blocks writes; consider --type pt-osc)";
            case NOT_AN_ALTER -> "as written (not an ALTER)";
        };
    }
}
