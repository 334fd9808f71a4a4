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
import io.shardschema.change.PtOscOutput;
import io.shardschema.config.Config;
import io.shardschema.config.DataSources;
import io.shardschema.config.Dsn;
import io.shardschema.schema.Sql;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/**
 * The lifecycle of an online change on one shard: preparing (size, pt-osc dry run) → awaiting approval → copying
 * (pt-osc copies and keeps the shadow table in sync through its triggers, without swapping) → awaiting cut-over →
 * cutting over (an atomic RENAME swap; the old table moves to the pending-drops database, the triggers go) → the
 * version's final insert → completed. Each claim of the task takes it as far as the gates allow; the phase lives
 * in the catalog, so a takeover resumes from it: a copy starts again after its leftovers are removed, and a
 * cut-over finds out from the tables whether its swap happened.
 */
final class OnlineChange {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(OnlineChange.class);
    private static final long MONITOR_MILLIS = 2000;

    private final Catalog catalog;
    private final OnlineCatalog online;
    private final ShardConnections shards;
    private final Config config;
    private final PtOsc ptOsc;
    private final Clock clock;
    private final Path pauseFile;

    OnlineChange(Catalog catalog, ShardConnections shards, Config config, PtOsc ptOsc, Path pauseFile, Clock clock) {
        this.catalog = catalog;
        this.online = catalog.online();
        this.shards = shards;
        this.config = config;
        this.ptOsc = ptOsc;
        this.pauseFile = pauseFile;
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
        try (RunOutput out = new RunOutput(catalog, config.logDir(), lease.shardId(), version.number(), run)) {
            try {
                return walk(lease, run, version, c, leaseHeld, out);
            } catch (Catalog.LeaseLost e) {
                // Every write of the task is fenced by the lease: the runner that holds it now goes on.
                return end(Run.FAILED, "lease lost: " + e.getMessage() + "; another runner has the task", out, null);
            }
        }
    }

    private RunEnding walk(Lease lease, int run, Version version, Connection c, BooleanSupplier leaseHeld,
                           RunOutput out) throws SQLException, IOException, InterruptedException {
        long shardId = lease.shardId();
        int v = version.number();
        String schema = c.getCatalog();
        String table = version.tableName();
        OnlineCatalog.Task task = online.open(shardId, v);
        String phase = task.phase();
        if (ChangeStatement.isWholeStatement(version.command()) && phase.equals(OnlineCatalog.PREPARING)) {
            return wholeStatement(lease, run, version, c, schema, table, out);
        }
        while (true) {
            if (!leaseHeld.getAsBoolean()) {
                return end(Run.FAILED, "lease lost in phase " + phase + "; another runner has the task", out, null);
            }
            task = online.open(shardId, v);
            // Once the swap may have begun, a cancel is too late: the change is finished instead.
            if (task.cancelRequested() && !phase.equals(OnlineCatalog.CUTTING_OVER)
                    && !phase.equals(OnlineCatalog.COMPLETED)) {
                removeLeftovers(c, schema, table);
                online.phase(lease, OnlineCatalog.CANCELLED);
                return end(Run.CANCELLED, "cancelled in phase " + phase + "; shadow table and triggers removed,"
                        + " table " + table + " untouched", out, "cancelled by a DBA");
            }
            switch (phase) {
                case OnlineCatalog.PREPARING -> {
                    recordSize(c, lease, schema, table);
                    PtOscChecks.Decision decision = PtOscChecks.decide(c, schema, version);
                    if (decision.refusal().isPresent()) {
                        return refused(decision, "before pt-osc ran", table, out);
                    }
                    int exit = runPtOsc(lease, version, c, table, decision.arguments(), PtOsc.Mode.DRY_RUN, out,
                            leaseHeld);
                    removeLeftoversAfter(exit, c, schema, table, out);
                    if (exit != 0) {
                        if (online.cancelRequested(shardId, v)) {
                            continue;
                        }
                        PtOscOutput said = new PtOscOutput(out.text());
                        // A dry run fails the same way every time unless a connection or a lock was to blame.
                        return end(said.transientFailure() ? Run.FAILED : Run.REFUSED, "pt-osc dry run failed (exit "
                                + exit + ")" + (said.transientFailure() ? "" : ": refused, a retry would fail the same"
                                + " way"), out, said.summary());
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
                    removeLeftovers(c, schema, table);
                    // Again: the rows may have changed since the dry run (a duplicate for a new unique key).
                    PtOscChecks.Decision decision = PtOscChecks.decide(c, schema, version);
                    if (decision.refusal().isPresent()) {
                        return refused(decision, "before the copy", table, out);
                    }
                    int exit = runPtOsc(lease, version, c, table, decision.arguments(), PtOsc.Mode.COPY, out,
                            leaseHeld);
                    PtOscOutput said = new PtOscOutput(out.text());
                    if (exit != 0) {
                        removeLeftoversAfter(exit, c, schema, table, out);
                        if (online.cancelRequested(shardId, v)) {
                            continue;
                        }
                        boolean dataError = !said.transientFailure() && said.failedOnRows();
                        return end(dataError ? Run.REFUSED : Run.FAILED, "pt-osc copy failed (exit " + exit + ")"
                                + (dataError ? ": the rows do not fit the new definition; refused, a retry would fail"
                                + " the same way" : ""), out, said.summary());
                    }
                    // A copy that changed, lost or gained rows (a truncation pt-osc only warns about, an ALTER whose
                    // INSERT IGNORE dropped colliding rows, a rename pt-osc read otherwise) never reaches the gate.
                    Optional<String> lossy = ShadowCheck.lossy(c, schema, table, version, said);
                    if (lossy.isPresent()) {
                        removeLeftovers(c, schema, table);
                        return end(Run.REFUSED, "the copy is not faithful: " + lossy.get() + "; shadow table and"
                                + " triggers removed, nothing swapped, table " + table + " untouched", out,
                                lossy.get() + (said.dataWarnings().isEmpty() ? "" : "\n" + String.join("\n",
                                said.dataWarnings())));
                    }
                    online.progress(lease, 100.0, 0);
                    phase = moveTo(lease, phase, OnlineCatalog.AWAITING_CUTOVER, run);
                }
                case OnlineCatalog.AWAITING_CUTOVER -> {
                    if (!task.cutoverRequested()) {
                        return end(Run.WAITING, "copied; awaiting cut-over: `shardschema cutover " + v
                                + " --shard " + shardId + "` (or `cutover " + v + "`)", out, null);
                    }
                    // A pause holds the swap too (pt-osc only sees its pause file between chunks).
                    while (Files.exists(pauseFile) && leaseHeld.getAsBoolean()) {
                        Thread.sleep(500);
                    }
                    String stamp = PendingDrops.stamp(clock.instant());
                    online.swapNames(lease, Sql.tableName("_" + table + "_" + stamp + "_old"),
                            PendingDrops.name(c, schema, table));
                    // Only if no cancel came meanwhile: a cancel and the start of the swap exclude each other.
                    phase = moveTo(lease, phase, OnlineCatalog.CUTTING_OVER, null);
                }
                case OnlineCatalog.CUTTING_OVER -> {
                    Optional<String> refused = cutOver(c, lease, schema, table, task, out);
                    if (refused.isPresent()) {
                        return end(Run.FAILED, "cut-over refused: " + refused.get(), out, refused.get());
                    }
                    if (version.online().finalInsert() != null && leaseHeld.getAsBoolean()) {
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

    /** The ending of a task {@link PtOscChecks} refused {@code when}: nothing was touched. */
    private static RunEnding refused(PtOscChecks.Decision decision, String when, String table, RunOutput out) {
        String why = decision.refusal().orElseThrow();
        return end(Run.REFUSED, "refused " + when + ": " + why + "; table " + table + " untouched", out, why);
    }

    private static RunEnding end(String state, String message, RunOutput out, String err) {
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

    /**
     * Runs pt-osc on the table of {@code slot}'s schema and waits for it; meanwhile every couple of seconds writes its
     * output and progress to the catalog, and stops it when the DBA cancels, the lease is lost, or the session
     * holding the table's lock ({@code slot}, idle meanwhile) is gone: then nothing keeps another copy off the table.
     */
    private int runPtOsc(Lease lease, Version version, Connection slot, String table, List<String> caseArguments,
                         PtOsc.Mode mode, RunOutput out, BooleanSupplier leaseHeld)
            throws IOException, InterruptedException, SQLException {
        String schema = slot.getCatalog();
        Dsn dsn = shards.effective(lease.shardDsn(), lease.schemaName());
        out.line(PtOscOutput.header(mode.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'), schema, table,
                version.command()) + (caseArguments.isEmpty() ? "" : " " + String.join(" ", caseArguments)));
        try (PtOsc.Running running = ptOsc.start(dsn, schema, table, version.command(), version.online().options(),
                caseArguments, mode, config.logDir())) {
            // The reader only notes the progress; the monitor writes it: a slow or absent catalog must never hold up
            // reading pt-osc's output.
            AtomicReference<PtOsc.Progress> progress = new AtomicReference<>();
            Thread monitor = new Thread(() -> monitor(lease, version.number(), slot, running, out, progress, leaseHeld),
                    "ptosc-monitor-" + lease.shardId());
            monitor.setDaemon(true);
            monitor.start();
            try {
                return running.await(line -> {
                    out.line(line);
                    PtOsc.progress(line).ifPresent(progress::set);
                });
            } finally {
                monitor.interrupt();
                monitor.join();
                quietly(lease, out::flush);
            }
        }
    }

    /** A catalog write that may fail while the catalog is away: the copy must go on regardless. */
    private static void quietly(Lease lease, Runnable write) {
        try {
            write.run();
        } catch (RuntimeException e) {
            log.warn("shard {}: writing pt-osc output or progress: {}", lease.shardId(), e.getMessage());
        }
    }

    private void monitor(Lease lease, int version, Connection slot, PtOsc.Running running, RunOutput out,
                         AtomicReference<PtOsc.Progress> progress, BooleanSupplier leaseHeld) {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(MONITOR_MILLIS);
                // Checked first, without the catalog: these stop the copy even while the catalog is away.
                String stop = !leaseHeld.getAsBoolean() ? "lease lost"
                        : !slot.isValid(5) ? "the session holding the table's lock ended" : null;
                if (stop == null) {
                    try {
                        out.flush();
                        PtOsc.Progress p = progress.getAndSet(null);
                        if (p != null) {
                            online.progress(lease, (double) p.percent(), p.etaSeconds());
                        }
                        stop = online.cancelRequested(lease.shardId(), version) ? "cancelled by a DBA" : null;
                    } catch (RuntimeException e) {
                        // The catalog is briefly away: the copy goes on, the next round writes the output.
                        log.warn("shard {}: writing pt-osc output: {}", lease.shardId(), e.getMessage());
                    }
                }
                if (stop != null) {
                    out.line("stopping pt-osc: " + stop);
                    running.stop();
                    return;
                }
            } catch (InterruptedException e) {
                return;
            } catch (SQLException e) {
                log.warn("shard {}: checking the table's lock: {}", lease.shardId(), e.getMessage());
            }
        }
    }

    /**
     * The swap, resumable: if the shadow table is still there the swap has not happened, and it is done now (one
     * RENAME, so the table is never missing and writes wait on the metadata lock, none is lost); then the triggers
     * go and the old table moves to the pending-drops database. Swaps only a shadow table whose copy a run recorded
     * as complete, that the triggers still keep in sync, and that holds as many rows as the table right before the
     * swap; otherwise the copy is done again (rows would be lost).
     */
    private Optional<String> cutOver(Connection c, Lease lease, String schema, String table, OnlineCatalog.Task task,
                                     RunOutput out) throws SQLException {
        String shadow = PtOsc.shadowTable(table);
        String old = task.oldTable();
        String q = Sql.quote(schema) + ".";
        try (Statement s = c.createStatement()) {
            if (tableExists(c, schema, shadow)) {
                if (tableExists(c, schema, old)) {
                    return Optional.of(schema + "." + old + " exists; move it away and `retry`");
                }
                Optional<String> unsafe = task.copiedRun() == null
                        ? Optional.of("no run recorded a completed copy into " + shadow)
                        : TableTriggers.ptOscs(c, schema, table).size() < 3
                        ? Optional.of("the pt-osc triggers on " + schema + "." + table + " are missing, so " + shadow
                        + " is not in sync")
                        : RowCounts.compare(c, schema, table, shadow);
                if (unsafe.isPresent()) {
                    online.phase(lease, OnlineCatalog.COPYING);
                    return Optional.of(unsafe.get() + "; nothing was swapped, the next run copies again");
                }
                // The table's own triggers go to the shadow table first, and the RENAME takes them along. Their
                // definitions are in the output first: a runner killed between a DROP and its CREATE leaves them there.
                List<TableTriggers.Trigger> own = TableTriggers.read(c, schema, table);
                own.forEach(t -> out.line("moving trigger " + t.name() + " (sql_mode '" + t.sqlMode() + "'): "
                        + t.create(table)));
                quietly(lease, out::flush);
                String swap = "RENAME TABLE " + q + Sql.quote(table) + " TO " + q + Sql.quote(old) + ", "
                        + q + Sql.quote(shadow) + " TO " + q + Sql.quote(table);
                if (own.isEmpty()) {
                    s.execute(swap);
                } else {
                    // A session of its own, not a pooled one: the pool may have none to spare.
                    try (Connection renamer = DataSources.connect(shards.effective(lease.shardDsn(),
                            lease.schemaName()))) {
                        TableTriggers.moveAndSwap(c, renamer, table, shadow, swap, own);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new SQLException("interrupted during the cut-over", e);
                    }
                }
                out.line("swapped " + schema + "." + table + " with " + shadow);
                List<String> kept = TableTriggers.read(c, schema, table).stream().map(TableTriggers.Trigger::name).toList();
                if (!kept.isEmpty()) {
                    out.line("the table's own triggers, now on its new version: " + String.join(", ", kept));
                }
            } else if (!tableExists(c, schema, old)) {
                out.line("swap and move found done by an earlier run");
                return Optional.empty();
            }
            for (String trigger : TableTriggers.ptOscs(c, schema, old)) {
                s.execute("DROP TRIGGER IF EXISTS " + q + Sql.quote(trigger));
            }
            String pendingDb = Sql.quote(config.pendingDropsDb());
            s.execute("CREATE DATABASE IF NOT EXISTS " + pendingDb);
            s.execute("RENAME TABLE " + q + Sql.quote(old) + " TO " + pendingDb + "." + Sql.quote(task.pendingTable()));
            out.line("moved the old table to " + config.pendingDropsDb() + "." + task.pendingTable());
        }
        return Optional.empty();
    }

    /**
     * Removes what a copy leaves: pt-osc's triggers on the table, then its shadow table, after bringing back any
     * trigger of the table's own that an interrupted cut-over left on the shadow table.
     */
    private static void removeLeftovers(Connection c, String schema, String table) throws SQLException {
        String shadow = PtOsc.shadowTable(table);
        try (Statement s = c.createStatement()) {
            if (tableExists(c, schema, shadow)) {
                TableTriggers.restore(c, table, shadow);
            }
            for (String trigger : TableTriggers.ptOscs(c, schema, table)) {
                s.execute("DROP TRIGGER IF EXISTS " + Sql.quote(schema) + "." + Sql.quote(trigger));
            }
            s.execute("DROP TABLE IF EXISTS " + Sql.quote(schema) + "." + Sql.quote(shadow));
        }
    }

    /**
     * Cleans up after pt-osc; when pt-osc failed, a failing cleanup (the server is gone) must not hide pt-osc's
     * own error: it is noted in the output, and the next run cleans up before it copies.
     */
    private static void removeLeftoversAfter(int exit, Connection c, String schema, String table, RunOutput out)
            throws SQLException {
        try {
            removeLeftovers(c, schema, table);
        } catch (SQLException e) {
            if (exit == 0) {
                throw e;
            }
            out.line("cleanup after the failure did not finish (the next run retries it): " + e.getMessage());
        }
    }

    private static boolean tableExists(Connection c, String schema, String table) throws SQLException {
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
