package io.shardschema.runner;

import io.shardschema.catalog.Lease;
import io.shardschema.catalog.OnlineCatalog;
import io.shardschema.catalog.Run;
import io.shardschema.catalog.RunEnding;
import io.shardschema.config.DataSources;
import io.shardschema.config.Dsn;
import io.shardschema.online.Migration;

import java.sql.SQLException;
import java.time.Clock;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * The built-in engine ({@code --type online}, package {@code io.shardschema.online}): it follows the binlog, so the
 * shadow table is in sync only while the claim that copied it runs; a later claim copies again. Between chunks it
 * follows the throttle file's pause and stops on a cancel or a lost lease, and it reports the copy's progress.
 */
final class BinlogEngine implements OnlineEngine {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(BinlogEngine.class);
    /** How often the catalog is asked for a cancel, and the progress written. */
    private static final long CATALOG_MILLIS = 1000;

    private final OnlineCatalog online;
    private final ShardConnections shards;
    private final BooleanSupplier paused;
    private final String pendingDropsDb;
    private final Clock clock;
    /** The claim's copy, in sync while it lives. */
    private Migration migration;

    BinlogEngine(OnlineCatalog online, ShardConnections shards, BooleanSupplier paused, String pendingDropsDb,
                 Clock clock) {
        this.pendingDropsDb = pendingDropsDb;
        this.online = online;
        this.shards = shards;
        this.paused = paused;
        this.clock = clock;
    }

    /** Everything the copy would check, and its shadow table made (the ALTER applied to it), then dropped again. */
    @Override
    public Optional<RunEnding> check(OnlineWork w) throws SQLException {
        Optional<RunEnding> refused = start(w, "before the copy");
        close();
        return refused;
    }

    @Override
    public Optional<RunEnding> copy(OnlineWork w) throws SQLException {
        Optional<RunEnding> refused = start(w, "before the copy");
        if (refused.isPresent()) {
            return refused;
        }
        try {
            Migration.Copied copied = migration.copy();
            w.out().line("copied " + copied.rows() + " rows in " + copied.copyMillis() + " ms (with the catch-up);"
                    + " the shadow table equals the table (checksum in " + copied.checksumMillis() + " ms)");
            return Optional.empty();
        } catch (Migration.Failed e) {
            close();
            return Optional.of(failed("copy", e, w));
        }
    }

    /** Prepares the migration: the checks, the shadow table, the stream; a refusal is the run's ending. */
    private Optional<RunEnding> start(OnlineWork w, String when) throws SQLException {
        Dsn dsn = shards.effective(w.lease().shardDsn(), w.lease().schemaName());
        Optional<String> unreachable = binlogReachable(dsn);
        if (unreachable.isPresent()) {
            return Optional.of(OnlineChange.refused(unreachable.get(), when, w));
        }
        try {
            migration = Migration.prepare(() -> DataSources.connect(dsn), dsn, w.schema(), w.table(),
                    w.version().command(), control(w), clock);
            return Optional.empty();
        } catch (Migration.Refused e) {
            return Optional.of(OnlineChange.refused(e.getMessage(), when, w));
        }
    }

    /** The binlog client speaks TCP without TLS only. */
    private static Optional<String> binlogReachable(Dsn dsn) {
        if (dsn.socket() != null) {
            return Optional.of("the online engine reads the binlog over TCP, and the shard's DSN names a socket;"
                    + " register the shard by host and port, or use `--type pt-osc`");
        }
        String tls = dsn.params().getOrDefault("tls", "false");
        if (!java.util.List.of("false", "disable", "disabled").contains(tls.toLowerCase(java.util.Locale.ROOT))) {
            return Optional.of("the online engine cannot read the binlog over TLS yet, and the shard's DSN asks for"
                    + " tls=" + tls + "; use `--type pt-osc`");
        }
        return Optional.empty();
    }

    @Override
    public boolean inSync() {
        return migration != null;
    }

    @Override
    public String oldTable(String table, String stamp) {
        return Migration.oldTableName(table, stamp);
    }

    /**
     * The sentry swap, if this claim holds the copy. After any failure, and in a claim that does not hold it (the
     * runner that cut over died), the tables decide: see {@link #decide}.
     */
    @Override
    public Optional<String> cutOver(OnlineWork w, OnlineCatalog.Task task) throws SQLException {
        if (migration == null) {
            return decide(w, task, "the run that cut over stopped");
        }
        if (OnlineChange.tableExists(w.slot(), w.schema(), task.oldTable())) {
            return Optional.of(w.schema() + "." + task.oldTable() + " exists; move it away and `retry`");
        }
        try {
            Migration.Result r = migration.cutOver(task.oldTable());
            w.out().line("swapped " + w.schema() + "." + w.table() + " with its shadow table in attempt "
                    + r.cutOverAttempts() + "; writers waited at most " + r.lockMillis() + " ms");
            close();
            return Optional.empty();
        } catch (Migration.Failed | SQLException | RuntimeException e) {
            return decide(w, task, e.getMessage());
        }
    }

    /**
     * Whether a swap happened, from the tables alone: no shadow table, and the old table under its recorded name
     * (not a sentry) or already in the pending-drops database. A missing shadow table alone proves nothing (a
     * failed run may have dropped it). Swapped: the changelog goes, and the lifecycle moves on. Not: the leftovers go and the task copies again.
     */
    private Optional<String> decide(OnlineWork w, OnlineCatalog.Task task, String why) throws SQLException {
        boolean swapped = !OnlineChange.tableExists(w.slot(), w.schema(), Migration.shadowTableName(w.table()))
                && (Migration.isOldTable(w.slot(), w.schema(), task.oldTable())
                || OnlineChange.tableExists(w.slot(), pendingDropsDb, task.pendingTable()));
        if (swapped) {
            close();
            Migration.removeLeftovers(w.slot(), w.schema(), w.table(), null);
            w.out().line("the tables show the swap happened (" + why + ")");
            return Optional.empty();
        }
        online.phase(w.lease(), OnlineCatalog.COPYING);
        removeLeftovers(w, task);
        return Optional.of(why + "; nothing was swapped, the next run copies again");
    }

    @Override
    public void removeLeftovers(OnlineWork w, OnlineCatalog.Task task) throws SQLException {
        close();
        Migration.removeLeftovers(w.slot(), w.schema(), w.table(), task.oldTable());
    }

    /** Stops the stream and drops the changelog (and, unless swapped, the shadow table). */
    @Override
    public void close() {
        if (migration != null) {
            try {
                migration.close();
            } catch (SQLException e) {
                // The next copy removes them before it starts.
                log.warn("removing the online engine's tables: {}", e.getMessage());
            }
            migration = null;
        }
    }

    /** A failed copy: refused when the rows cannot fit (a retry would fail the same way), else failed. */
    private static RunEnding failed(String what, Migration.Failed e, OnlineWork w) {
        String state = e.rowsDoNotFit() ? Run.REFUSED : Run.FAILED;
        return OnlineChange.end(state, "the " + what + " failed: " + e.getMessage() + (e.rowsDoNotFit()
                ? "; refused, a retry would fail the same way" : "") + "; shadow table removed, table " + w.table()
                + " untouched", w.out(), e.getMessage());
    }

    /**
     * What the change asks between chunks: the throttle file's pause (as the runner reads it, twice a second),
     * the lease, and, at most once a second, the catalog (a cancel; the progress); a catalog briefly away only delays
     * these.
     */
    private Migration.Control control(OnlineWork w) {
        Lease lease = w.lease();
        Long tableRows = online.open(lease.shardId(), w.version().number()).tableRows();
        long started = clock.millis();
        return new Migration.Control() {
            private long asked;
            private boolean cancelled;
            private long copied;

            @Override
            public boolean paused() {
                return paused.getAsBoolean();
            }

            @Override
            public String stopReason() {
                if (!w.leaseHeld().getAsBoolean()) {
                    return "lease lost";
                }
                long now = clock.millis();
                if (now - asked >= CATALOG_MILLIS) {
                    asked = now;
                    try {
                        // Without the session holding the table's lock nothing keeps another run off the table.
                        if (!w.slot().isValid(5)) {
                            return "the session holding the table's lock ended";
                        }
                    } catch (SQLException e) {
                        return "the session holding the table's lock ended: " + e.getMessage();
                    }
                    try {
                        cancelled = online.cancelRequested(lease.shardId(), w.version().number());
                        if (copied > 0) {
                            progress(now);
                        }
                        w.out().flush();
                    } catch (RuntimeException e) {
                        log.warn("shard {}: asking the catalog during the copy: {}", lease.shardId(), e.getMessage());
                    }
                }
                return cancelled ? "cancelled by a DBA" : null;
            }

            @Override
            public void copied(long rows) {
                copied = rows;
            }

            /** Percent of the table's estimated rows, and the time left at the rate so far. */
            private void progress(long now) {
                if (tableRows == null || tableRows <= 0) {
                    return;
                }
                double percent = Math.min(99.0, 100.0 * copied / tableRows);
                long elapsed = Math.max(1, now - started);
                int eta = (int) Math.max(0, (tableRows - copied) * elapsed / Math.max(1, copied) / 1000);
                online.progress(lease, percent, eta);
            }
        };
    }
}
