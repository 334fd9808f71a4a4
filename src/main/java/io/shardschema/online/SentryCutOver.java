package io.shardschema.online;

import io.shardschema.schema.Sql;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The swap on MariaDB, where RENAME under LOCK TABLES is refused (see EngineFactsTest): connection A makes a
 * sentry table under the old table's name and locks the table, the shadow and the sentry; the final flush runs on
 * A; connection B's {@code RENAME TABLE t TO old, shadow TO t} queues behind A's locks (it cannot succeed while the
 * sentry holds the name); A drops the sentry and unlocks, and the RENAME, first in the queue of the table's
 * metadata lock, swaps before any queued write. Writers wait from A's lock to the RENAME: the lock budget bounds
 * that; past it, or when anything fails, the attempt is undone (B's RENAME killed before the sentry goes, so it can
 * never swap then) and the table stays as it was.
 */
final class SentryCutOver {
    /** How long writers may wait on the swap, from the lock to the unlock. */
    static final long BUDGET_MILLIS = 1000;

    /** An attempt's outcome: swapped, or not (and why: the caller may try again). */
    record Outcome(boolean swapped, String why) {
    }

    private final Clock clock;

    SentryCutOver(Clock clock) {
        this.clock = clock;
    }

    /**
     * One attempt. {@code beforeSwap} runs on A under the lock (the final flush; it may throw to give up);
     * {@code b} is a connection of its own for the RENAME.
     */
    Outcome attempt(Connection a, Connection b, ShadowTable shadow, String oldName, Checksum.FinalFlush beforeSwap)
            throws SQLException {
        SourceTable t = shadow.source();
        String q = Sql.quote(t.schema()) + ".";
        String sentry = q + Sql.quote(oldName);
        long renamer = connectionId(b);
        ExecutorService thread = Executors.newSingleThreadExecutor(r -> new Thread(r, "cutover-rename"));
        try (Statement sa = a.createStatement()) {
            sa.execute("SET SESSION lock_wait_timeout = 2");
            // A new name per attempt: a table already there under it is someone's, and this fails on it.
            sa.execute("CREATE TABLE " + sentry + " (id INT NOT NULL PRIMARY KEY) ENGINE=InnoDB"
                    + " COMMENT 'shardschema cut-over sentry'");
            long start = clock.millis();
            sa.execute("LOCK TABLES " + t.quoted() + " WRITE, " + shadow.shadow().quoted() + " WRITE, " + sentry
                    + " WRITE WAIT 2");
            CompletableFuture<Void> rename = null;
            try {
                beforeSwap.run(a);
                try (Statement sb = b.createStatement()) {
                    sb.execute("SET SESSION lock_wait_timeout = 2");
                }
                String swap = "RENAME TABLE " + t.quoted() + " WAIT 2 TO " + sentry + ", " + shadow.shadow().quoted()
                        + " TO " + t.quoted();
                rename = CompletableFuture.runAsync(() -> {
                    try (Statement sb = b.createStatement()) {
                        sb.execute(swap);
                    } catch (SQLException e) {
                        throw new IllegalStateException(e.getMessage(), e);
                    }
                }, thread);
                if (!renameQueued(a, renamer, start)) {
                    return undo(sa, a, renamer, rename, sentry, "the RENAME did not queue within the lock budget");
                }
                sa.execute("DROP TABLE " + sentry);
                sa.execute("UNLOCK TABLES");
            } catch (SQLException | RuntimeException e) {
                return undo(sa, a, renamer, rename, sentry, "failed under the lock: " + e.getMessage());
            }
            try {
                rename.get(10, TimeUnit.SECONDS);
                return new Outcome(true, null);
            } catch (ExecutionException e) {
                return new Outcome(false, "the RENAME failed: " + e.getCause().getMessage());
            } catch (TimeoutException e) {
                return new Outcome(false, "the RENAME did not end within 10 s");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Outcome(false, "interrupted");
            }
        } finally {
            thread.shutdownNow();
        }
    }

    /** Waits, within the budget, until B's RENAME waits on the table's metadata lock. */
    private boolean renameQueued(Connection a, long renamer, long start) throws SQLException {
        try (PreparedStatement ps = a.prepareStatement("SELECT COUNT(*) FROM information_schema.PROCESSLIST"
                + " WHERE ID = ? AND STATE LIKE 'Waiting for table metadata lock%' AND INFO LIKE 'RENAME TABLE%'")) {
            ps.setLong(1, renamer);
            while (clock.millis() - start < BUDGET_MILLIS) {
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && rs.getInt(1) == 1) {
                        return true;
                    }
                }
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return false;
        }
    }

    /** Kills B's RENAME first (so that it can never swap), then drops the sentry and unlocks. */
    private static Outcome undo(Statement sa, Connection a, long renamer, CompletableFuture<Void> rename,
                                String sentry, String why) throws SQLException {
        if (rename != null) {
            try (PreparedStatement kill = a.prepareStatement("KILL QUERY ?")) {
                kill.setLong(1, renamer);
                kill.execute();
            }
            try {
                rename.get(10, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                // Killed, as intended.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        sa.execute("DROP TABLE IF EXISTS " + sentry);
        sa.execute("UNLOCK TABLES");
        return new Outcome(false, why);
    }

    private static long connectionId(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT CONNECTION_ID()")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
