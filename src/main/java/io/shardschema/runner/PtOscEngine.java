package io.shardschema.runner;

import io.shardschema.catalog.Lease;
import io.shardschema.catalog.OnlineCatalog;
import io.shardschema.catalog.Run;
import io.shardschema.catalog.RunEnding;
import io.shardschema.change.PtOsc;
import io.shardschema.change.PtOscOutput;
import io.shardschema.config.DataSources;
import io.shardschema.config.Dsn;
import io.shardschema.schema.Sql;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The online engine that is pt-online-schema-change: a dry run to prepare, a copy that leaves the shadow table and
 * the triggers that keep it in sync (no swap), and ShardSchema's own swap, one RENAME.
 */
final class PtOscEngine implements OnlineEngine {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(PtOscEngine.class);
    private static final long MONITOR_MILLIS = 2000;

    private final OnlineCatalog online;
    private final ShardConnections shards;
    private final PtOsc ptOsc;
    private final java.nio.file.Path logDir;

    PtOscEngine(OnlineCatalog online, ShardConnections shards, PtOsc ptOsc, java.nio.file.Path logDir) {
        this.online = online;
        this.shards = shards;
        this.ptOsc = ptOsc;
        this.logDir = logDir;
    }

    @Override
    public Optional<RunEnding> check(OnlineWork w) throws SQLException, IOException, InterruptedException {
        PtOscChecks.Decision decision = PtOscChecks.decide(w.slot(), w.schema(), w.version());
        if (decision.refusal().isPresent()) {
            return Optional.of(OnlineChange.refused(decision.refusal().get(), "before pt-osc ran", w));
        }
        int exit = runPtOsc(w, decision.arguments(), PtOsc.Mode.DRY_RUN);
        removeLeftoversAfter(exit, w);
        if (exit == 0) {
            return Optional.empty();
        }
        PtOscOutput said = new PtOscOutput(w.out().text());
        // A dry run fails the same way every time unless a connection or a lock was to blame.
        return Optional.of(OnlineChange.end(said.transientFailure() ? Run.FAILED : Run.REFUSED, "pt-osc dry run"
                + " failed (exit " + exit + ")" + (said.transientFailure() ? "" : ": refused, a retry would fail the"
                + " same way"), w.out(), said.summary()));
    }

    @Override
    public Optional<RunEnding> copy(OnlineWork w) throws SQLException, IOException, InterruptedException {
        // Again: the rows may have changed since the dry run (a duplicate for a new unique key).
        PtOscChecks.Decision decision = PtOscChecks.decide(w.slot(), w.schema(), w.version());
        if (decision.refusal().isPresent()) {
            return Optional.of(OnlineChange.refused(decision.refusal().get(), "before the copy", w));
        }
        int exit = runPtOsc(w, decision.arguments(), PtOsc.Mode.COPY);
        PtOscOutput said = new PtOscOutput(w.out().text());
        if (exit != 0) {
            removeLeftoversAfter(exit, w);
            boolean dataError = !said.transientFailure() && said.failedOnRows();
            return Optional.of(OnlineChange.end(dataError ? Run.REFUSED : Run.FAILED, "pt-osc copy failed (exit "
                    + exit + ")" + (dataError ? ": the rows do not fit the new definition; refused, a retry would fail"
                    + " the same way" : ""), w.out(), said.summary()));
        }
        // A copy that changed, lost or gained rows (a truncation pt-osc only warns about, an ALTER whose INSERT
        // IGNORE dropped colliding rows, a rename pt-osc read otherwise) never reaches the gate.
        Optional<String> lossy = ShadowCheck.lossy(w.slot(), w.schema(), w.table(), w.version(), said);
        if (lossy.isPresent()) {
            removeLeftovers(w.slot(), w.schema(), w.table());
            return Optional.of(OnlineChange.end(Run.REFUSED, "the copy is not faithful: " + lossy.get() + "; shadow"
                    + " table and triggers removed, nothing swapped, table " + w.table() + " untouched", w.out(),
                    lossy.get() + (said.dataWarnings().isEmpty() ? "" : "\n" + String.join("\n", said.dataWarnings()))));
        }
        return Optional.empty();
    }

    /** The triggers keep the shadow table in sync between runs; {@link #cutOver} checks they are still there. */
    @Override
    public boolean inSync() {
        return true;
    }

    @Override
    public String oldTable(String table, String stamp) {
        return Sql.tableName("_" + table + "_" + stamp + "_old");
    }

    /**
     * The swap, resumable: if the shadow table is still there the swap has not happened, and it is done now (one
     * RENAME, so the table is never missing and writes wait on the metadata lock, none is lost); then the triggers
     * go. Swaps only a shadow table whose copy a run recorded as complete, that the triggers still keep in sync,
     * and that holds as many rows as the table right before the swap; otherwise the copy is done again (rows would
     * be lost).
     */
    @Override
    public Optional<String> cutOver(OnlineWork w, OnlineCatalog.Task task) throws SQLException {
        Connection c = w.slot();
        String schema = w.schema();
        String table = w.table();
        String shadow = PtOsc.shadowTable(table);
        String old = task.oldTable();
        String q = Sql.quote(schema) + ".";
        RunOutput out = w.out();
        try (Statement s = c.createStatement()) {
            if (OnlineChange.tableExists(c, schema, shadow)) {
                if (OnlineChange.tableExists(c, schema, old)) {
                    return Optional.of(schema + "." + old + " exists; move it away and `retry`");
                }
                Optional<String> unsafe = task.copiedRun() == null
                        ? Optional.of("no run recorded a completed copy into " + shadow)
                        : TableTriggers.ptOscs(c, schema, table).size() < 3
                        ? Optional.of("the pt-osc triggers on " + schema + "." + table + " are missing, so " + shadow
                        + " is not in sync")
                        : RowCounts.compare(c, schema, table, shadow);
                if (unsafe.isPresent()) {
                    online.phase(w.lease(), OnlineCatalog.COPYING);
                    return Optional.of(unsafe.get() + "; nothing was swapped, the next run copies again");
                }
                // The table's own triggers go to the shadow table first, and the RENAME takes them along. Their
                // definitions are in the output first: a runner killed between a DROP and its CREATE leaves them there.
                List<TableTriggers.Trigger> own = TableTriggers.read(c, schema, table);
                own.forEach(t -> out.line("moving trigger " + t.name() + " (sql_mode '" + t.sqlMode() + "'): "
                        + t.create(table)));
                quietly(w.lease(), out::flush);
                String swap = "RENAME TABLE " + q + Sql.quote(table) + " TO " + q + Sql.quote(old) + ", "
                        + q + Sql.quote(shadow) + " TO " + q + Sql.quote(table);
                if (own.isEmpty()) {
                    s.execute(swap);
                } else {
                    // A session of its own, not a pooled one: the pool may have none to spare.
                    try (Connection renamer = DataSources.connect(shards.effective(w.lease().shardDsn(),
                            w.lease().schemaName()))) {
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
            }
            if (OnlineChange.tableExists(c, schema, old)) {
                for (String trigger : TableTriggers.ptOscs(c, schema, old)) {
                    s.execute("DROP TRIGGER IF EXISTS " + q + Sql.quote(trigger));
                }
            }
        }
        return Optional.empty();
    }

    @Override
    public void removeLeftovers(OnlineWork w, OnlineCatalog.Task task) throws SQLException {
        removeLeftovers(w.slot(), w.schema(), w.table());
    }

    /** pt-osc runs in the claim's thread: nothing outlives it. */
    @Override
    public void close() {
    }

    /**
     * Runs pt-osc on the table and waits for it; meanwhile every couple of seconds writes its output and progress
     * to the catalog, and stops it when the DBA cancels, the lease is lost, or the session holding the table's
     * lock (the slot, idle meanwhile) is gone: then nothing keeps another copy off the table.
     */
    private int runPtOsc(OnlineWork w, List<String> caseArguments, PtOsc.Mode mode)
            throws IOException, InterruptedException {
        Lease lease = w.lease();
        RunOutput out = w.out();
        Dsn dsn = shards.effective(lease.shardDsn(), lease.schemaName());
        out.line(PtOscOutput.header(mode.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'), w.schema(),
                w.table(), w.version().command()) + (caseArguments.isEmpty() ? "" : " " + String.join(" ", caseArguments)));
        try (PtOsc.Running running = ptOsc.start(dsn, w.schema(), w.table(), w.version().command(),
                w.version().online().options(), caseArguments, mode, logDir)) {
            // The reader only notes the progress; the monitor writes it: a slow or absent catalog must never hold up
            // reading pt-osc's output.
            AtomicReference<PtOsc.Progress> progress = new AtomicReference<>();
            Thread monitor = new Thread(() -> monitor(w, running, progress), "ptosc-monitor-" + lease.shardId());
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
    static void quietly(Lease lease, Runnable write) {
        try {
            write.run();
        } catch (RuntimeException e) {
            log.warn("shard {}: writing online output or progress: {}", lease.shardId(), e.getMessage());
        }
    }

    private void monitor(OnlineWork w, PtOsc.Running running, AtomicReference<PtOsc.Progress> progress) {
        Lease lease = w.lease();
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(MONITOR_MILLIS);
                // Checked first, without the catalog: these stop the copy even while the catalog is away.
                String stop = !w.leaseHeld().getAsBoolean() ? "lease lost"
                        : !w.slot().isValid(5) ? "the session holding the table's lock ended" : null;
                if (stop == null) {
                    try {
                        w.out().flush();
                        PtOsc.Progress p = progress.getAndSet(null);
                        if (p != null) {
                            online.progress(lease, (double) p.percent(), p.etaSeconds());
                        }
                        stop = online.cancelRequested(lease.shardId(), w.version().number()) ? "cancelled by a DBA" : null;
                    } catch (RuntimeException e) {
                        // The catalog is briefly away: the copy goes on, the next round writes the output.
                        log.warn("shard {}: writing pt-osc output: {}", lease.shardId(), e.getMessage());
                    }
                }
                if (stop != null) {
                    w.out().line("stopping pt-osc: " + stop);
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
     * Removes what a copy leaves: pt-osc's triggers on the table, then its shadow table, after bringing back any
     * trigger of the table's own that an interrupted cut-over left on the shadow table.
     */
    private static void removeLeftovers(Connection c, String schema, String table) throws SQLException {
        String shadow = PtOsc.shadowTable(table);
        try (Statement s = c.createStatement()) {
            if (OnlineChange.tableExists(c, schema, shadow)) {
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
    private static void removeLeftoversAfter(int exit, OnlineWork w) throws SQLException {
        try {
            removeLeftovers(w.slot(), w.schema(), w.table());
        } catch (SQLException e) {
            if (exit == 0) {
                throw e;
            }
            w.out().line("cleanup after the failure did not finish (the next run retries it): " + e.getMessage());
        }
    }
}
