package io.shardschema.runner;

import io.shardschema.catalog.Catalog;
import io.shardschema.catalog.Lease;
import io.shardschema.catalog.OnlineCatalog;
import io.shardschema.catalog.Run;
import io.shardschema.catalog.RunEnding;
import io.shardschema.catalog.Version;
import io.shardschema.change.ChangeStatement;
import io.shardschema.change.PendingDrops;
import io.shardschema.change.PtOsc;
import io.shardschema.config.Config;
import io.shardschema.schema.Sql;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * The lifecycle of an online change on one shard, whichever engine copies ({@link OnlineEngine}: pt-osc or the
 * binlog engine): preparing (size, the engine's checks) → awaiting approval → copying (the shadow table filled and
 * kept in sync, not swapped) → awaiting cut-over → cutting over (an atomic swap; the old table moves to the
 * pending-drops database) → the version's final insert → completed. Each claim of the task takes it as far as the
 * gates allow; the phase lives in the catalog, so a takeover resumes from it: a copy starts again after its
 * leftovers are removed, and a cut-over finds out from the tables whether its swap happened.
 */
final class OnlineChange {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(OnlineChange.class);

    private final Catalog catalog;
    private final OnlineCatalog online;
    private final ShardConnections shards;
    private final Config config;
    private final PtOsc ptOsc;
    private final Clock clock;
    private final BooleanSupplier paused;

    /** {@code paused}: the throttle file's pause, as the runner reads it (pt-osc has its own pause file). */
    OnlineChange(Catalog catalog, ShardConnections shards, Config config, PtOsc ptOsc, BooleanSupplier paused,
                 Clock clock) {
        this.paused = paused;
        this.catalog = catalog;
        this.online = catalog.online();
        this.shards = shards;
        this.config = config;
        this.ptOsc = ptOsc;
        this.clock = clock;
    }

    /**
     * A connection to the shard holding one of its server's online slots ({@code onlinePerServer} named locks on
     * the server itself, so every runner sees them and a dead runner's slot frees itself) and the lock of the table
     * (so no two runs ever work one table, whatever happened to their leases); empty when either is taken.
     */
    Optional<Connection> reserve(Lease lease, String table) throws SQLException {
        Connection c = shards.connect(lease.shardDsn(), lease.schemaName());
        try (Statement s = c.createStatement(); PreparedStatement ps = c.prepareStatement("SELECT GET_LOCK(?, 0)")) {
            // The slot's session idles through a copy of hours: the server must not close it meanwhile.
            s.execute("SET SESSION wait_timeout = 604800");
            if (lock(ps, LockNames.table(c.getCatalog(), table))) {
                for (int slot = 1; slot <= config.onlinePerServer(); slot++) {
                    if (lock(ps, "shardschema.online." + slot)) {
                        return Optional.of(c);
                    }
                }
            }
        } catch (SQLException e) {
            release(c);
            throw e;
        }
        release(c);
        return Optional.empty();
    }

    private static boolean lock(PreparedStatement ps, String name) throws SQLException {
        ps.setString(1, name);
        try (ResultSet rs = ps.executeQuery()) {
            return rs.next() && rs.getInt(1) == 1;
        }
    }

    /** Frees the slot {@link #reserve} took, before the pooled connection goes back. */
    static void release(Connection c) {
        try (Statement s = c.createStatement()) {
            s.execute("DO RELEASE_ALL_LOCKS()");
        } catch (SQLException e) {
            log.debug("releasing the online slot: {}", e.getMessage());
        } finally {
            try {
                c.close();
            } catch (SQLException ignored) {
                // the pool discards a broken connection
            }
        }
    }

    /** Takes the task as far as its gates allow, on {@code c} (the shard's connection, holding the slot). */
    RunEnding advance(Lease lease, int run, Version version, Connection c, BooleanSupplier leaseHeld)
            throws SQLException, IOException, InterruptedException {
        try (RunOutput out = new RunOutput(catalog, config.logDir(), lease.shardId(), version.number(), run);
             OnlineEngine engine = engine(version)) {
            try {
                return walk(new OnlineWork(lease, run, version, c, c.getCatalog(), leaseHeld, out), engine);
            } catch (Catalog.LeaseLost e) {
                // Every write of the task is fenced by the lease: the runner that holds it now goes on.
                return end(Run.FAILED, "lease lost: " + e.getMessage() + "; another runner has the task", out, null);
            }
        }
    }

    private OnlineEngine engine(Version version) {
        return version.type().equals(Version.PT_OSC) ? new PtOscEngine(online, shards, ptOsc, config.logDir())
                : new BinlogEngine(online, shards, paused, config.pendingDropsDb(), clock);
    }

    private RunEnding walk(OnlineWork w, OnlineEngine engine) throws SQLException, IOException, InterruptedException {
        Lease lease = w.lease();
        Version version = w.version();
        RunOutput out = w.out();
        Connection c = w.slot();
        long shardId = lease.shardId();
        int v = version.number();
        String schema = w.schema();
        String table = w.table();
        OnlineCatalog.Task task = online.open(shardId, v);
        String phase = task.phase();
        if (ChangeStatement.isWholeStatement(version.command()) && phase.equals(OnlineCatalog.PREPARING)) {
            return wholeStatement(lease, w.run(), version, c, schema, table, out);
        }
        while (true) {
            if (!w.leaseHeld().getAsBoolean()) {
                return end(Run.FAILED, "lease lost in phase " + phase + "; another runner has the task", out, null);
            }
            task = online.open(shardId, v);
            // Once the swap may have begun, a cancel is too late: the change is finished instead.
            if (task.cancelRequested() && !phase.equals(OnlineCatalog.CUTTING_OVER)
                    && !phase.equals(OnlineCatalog.COMPLETED)) {
                engine.removeLeftovers(w, task);
                online.phase(lease, OnlineCatalog.CANCELLED);
                return end(Run.CANCELLED, "cancelled in phase " + phase + "; shadow table and triggers removed,"
                        + " table " + table + " untouched", out, "cancelled by a DBA");
            }
            switch (phase) {
                case OnlineCatalog.PREPARING -> {
                    recordSize(c, lease, schema, table);
                    Optional<RunEnding> stop = engine.check(w);
                    if (stop.isPresent()) {
                        if (online.cancelRequested(shardId, v)) {
                            continue;
                        }
                        return stop.get();
                    }
                    phase = moveTo(lease, phase, OnlineCatalog.AWAITING_APPROVAL, null);
                }
                case OnlineCatalog.AWAITING_APPROVAL -> {
                    if (!task.approved()) {
                        return end(Run.WAITING, "awaiting approval: `shardschema approve " + v + " --shard "
                                + shardId + "` (or `approve " + v + "` for every shard)", out, null);
                    }
                    phase = moveTo(lease, phase, OnlineCatalog.COPYING, null);
                }
                case OnlineCatalog.COPYING -> {
                    // Whatever an earlier, interrupted copy left is removed first: the copy starts over.
                    engine.removeLeftovers(w, task);
                    Optional<RunEnding> stop = engine.copy(w);
                    if (stop.isPresent()) {
                        if (online.cancelRequested(shardId, v)) {
                            continue;
                        }
                        return stop.get();
                    }
                    online.progress(lease, 100.0, 0);
                    phase = moveTo(lease, phase, OnlineCatalog.AWAITING_CUTOVER, w.run());
                }
                case OnlineCatalog.AWAITING_CUTOVER -> {
                    if (!task.cutoverRequested()) {
                        if (!engine.inSync()) {
                            // A dead runner's copy that nothing keeps in sync: gone, the cut-over copies again.
                            engine.removeLeftovers(w, task);
                        }
                        return end(Run.WAITING, "copied; awaiting cut-over: `shardschema cutover " + v
                                + " --shard " + shardId + "` (or `cutover " + v + "`)", out, null);
                    }
                    if (!engine.inSync()) {
                        out.line("the copy of an earlier run is not kept in sync between runs: copying again, then"
                                + " cutting over");
                        phase = moveTo(lease, phase, OnlineCatalog.COPYING, null);
                        continue;
                    }
                    // A pause holds the swap too (pt-osc only sees its pause file between chunks).
                    while (paused.getAsBoolean() && w.leaseHeld().getAsBoolean()) {
                        Thread.sleep(200);
                    }
                    String stamp = PendingDrops.stamp(clock.instant());
                    online.swapNames(lease, engine.oldTable(table, stamp), PendingDrops.name(c, schema, table));
                    // Only if no cancel came meanwhile: a cancel and the start of the swap exclude each other.
                    phase = moveTo(lease, phase, OnlineCatalog.CUTTING_OVER, null);
                }
                case OnlineCatalog.CUTTING_OVER -> {
                    Optional<String> refused = engine.cutOver(w, task);
                    if (refused.isPresent()) {
                        return end(Run.FAILED, "cut-over refused: " + refused.get(), out, refused.get());
                    }
                    movePending(c, schema, task, out);
                    if (version.online().finalInsert() != null && w.leaseHeld().getAsBoolean()) {
                        try (Statement s = c.createStatement()) {
                            long rows = s.executeLargeUpdate(version.online().finalInsert());
                            out.line("final insert: " + rows + " rows");
                        }
                    }
                    online.phase(lease, OnlineCatalog.COMPLETED);
                    return validated(c, version, Run.APPLIED, "applied online: copied, swapped, old table in "
                            + config.pendingDropsDb() + "." + task.pendingTable(), out);
                }
                case OnlineCatalog.COMPLETED -> {
                    // The swap and final insert happened; only the catalog's record of it was lost.
                    return validated(c, version, Run.ALREADY_APPLIED,
                            "already applied: the online change completed in an earlier run", out);
                }
                default -> {
                    return end(Run.FAILED, "online task in phase '" + phase + "'; `retry` starts it again", out,
                            "unexpected phase " + phase);
                }
            }
        }
    }

    /** After the swap, the old table goes to the pending-drops database (unless an earlier run moved it). */
    private void movePending(Connection c, String schema, OnlineCatalog.Task task, RunOutput out) throws SQLException {
        if (!tableExists(c, schema, task.oldTable())) {
            out.line("swap and move found done by an earlier run");
            return;
        }
        String pendingDb = Sql.quote(config.pendingDropsDb());
        try (Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE IF NOT EXISTS " + pendingDb);
            s.execute("RENAME TABLE " + Sql.quote(schema) + "." + Sql.quote(task.oldTable()) + " TO " + pendingDb
                    + "." + Sql.quote(task.pendingTable()));
        }
        out.line("moved the old table to " + config.pendingDropsDb() + "." + task.pendingTable());
    }

    /**
     * The next phase, unless a cancel came first (then the phase stays, and the loop sees the cancel); throws
     * {@link Catalog.LeaseLost} when the lease is gone.
     */
    private String moveTo(Lease lease, String from, String to, Integer copiedRun) {
        return switch (online.move(lease, from, to, copiedRun)) {
            case MOVED -> to;
            case CANCELLED -> from;
            case LEASE_LOST -> throw new Catalog.LeaseLost("the lease was lost before phase " + to);
        };
    }

    /** The ending of a change in place, once the checks after a change (validation, expected result) pass. */
    private static RunEnding validated(Connection c, Version version, String state, String message,
                                               RunOutput out) throws SQLException {
        return TaskWorker.checked(c, c.getCatalog(), version, end(state, message, out, null));
    }

    /** The ending of a task refused {@code when}: nothing was touched. */
    static RunEnding refused(String why, String when, OnlineWork w) {
        return end(Run.REFUSED, "refused " + when + ": " + why + "; table " + w.table() + " untouched", w.out(), why);
    }

    static RunEnding end(String state, String message, RunOutput out, String err) {
        return new RunEnding(state, message + "; output in " + out.file(), out.text(), err);
    }

    /**
     * CREATE TABLE runs as it is; DROP TABLE moves the table to the pending-drops database instead. Both look at the
     * table first, so a run after an interrupted one finds the change done instead of failing on it.
     */
    private RunEnding wholeStatement(Lease lease, int run, Version version, Connection c, String schema,
                                             String table, RunOutput out) throws SQLException {
        boolean drop = ChangeStatement.isDropTable(version.command());
        boolean exists = tableExists(c, schema, table);
        String state = Run.APPLIED;
        try (Statement s = c.createStatement()) {
            if (drop && exists) {
                String pending = PendingDrops.name(c, schema, table);
                s.execute("CREATE DATABASE IF NOT EXISTS " + Sql.quote(config.pendingDropsDb()));
                s.execute("RENAME TABLE " + Sql.quote(schema) + "." + Sql.quote(table) + " TO "
                        + Sql.quote(config.pendingDropsDb()) + "." + Sql.quote(pending));
                out.line("moved " + schema + "." + table + " to " + config.pendingDropsDb() + "." + pending);
            } else if (!drop && (!exists || run == 1)) {
                s.execute(version.command());
                out.line("executed: " + version.command());
            } else if (run > 1) {
                state = Run.ALREADY_APPLIED;
                out.line("table " + table + (drop ? " is gone" : " exists") + ": an earlier run did the change");
            } else {
                s.execute(version.command());
            }
        }
        online.phase(lease, OnlineCatalog.COMPLETED);
        return validated(c, version, state, state.equals(Run.APPLIED) ? "applied" : "already applied", out);
    }

    private void recordSize(Connection c, Lease lease, String schema, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT TABLE_ROWS, DATA_LENGTH + INDEX_LENGTH"
                + " FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?")) {
            ps.setString(1, schema);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    online.size(lease, rs.getLong(1), rs.getLong(2));
                }
            }
        }
    }

    static boolean tableExists(Connection c, String schema, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?")) {
            ps.setString(1, schema);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }
}
