package io.shardschema.online;

import io.shardschema.schema.Sql;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.UUID;
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

    /** How a sentry's comment starts (a nonce follows). */
    private static final String SENTRY_MARK = "shardschema cut-over sentry ";

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
        String sentry = Sql.quote(t.schema()) + "." + Sql.quote(oldName);
        // The sentry says it is one, with a nonce: a table of that name is dropped only when it is this sentry.
        String mark = SENTRY_MARK + UUID.randomUUID();
        long renamer = connectionId(b);
        ExecutorService thread = Executors.newSingleThreadExecutor(r -> new Thread(r, "cutover-rename"));
        try (Statement sa = a.createStatement()) {
            // If this process hangs under the lock, the server ends the session, and the lock, itself.
            sa.execute("SET SESSION lock_wait_timeout = 1, wait_timeout = 10");
            try (PreparedStatement create = a.prepareStatement("CREATE TABLE " + sentry + " (id INT NOT NULL"
                    + " PRIMARY KEY) ENGINE=InnoDB COMMENT = '" + mark + "'")) {
                create.execute();
            }
            long start = clock.millis();
            CompletableFuture<Void> rename = null;
            try {
                sa.execute("LOCK TABLES " + t.quoted() + " WRITE, " + shadow.shadow().quoted() + " WRITE, " + sentry
                        + " WRITE WAIT 1");
                beforeSwap.run(a);
                long flushMillis = clock.millis() - start;
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
                    return undo(sa, a, renamer, rename, t.schema(), oldName, mark, "the RENAME did not queue within"
                            + " the lock budget (the final flush under the lock took " + flushMillis + " ms)");
                }
                sa.execute("DROP TABLE " + sentry);
                sa.execute("UNLOCK TABLES");
            } catch (SQLException | RuntimeException e) {
                return undo(sa, a, renamer, rename, t.schema(), oldName, mark, "failed under the lock: "
                        + e.getMessage());
            }
            try {
                rename.get(10, TimeUnit.SECONDS);
                return new Outcome(true, null);
            } catch (ExecutionException | TimeoutException e) {
                // Its answer may be lost, not its work: the tables say whether the swap happened.
                boolean swapped = tableComment(a, t.schema(), oldName).filter(c -> !c.equals(mark)).isPresent()
                        && !tableComment(a, t.schema(), shadow.shadow().name()).isPresent();
                return new Outcome(swapped, swapped ? null : "the RENAME failed: " + (e.getCause() == null ? e
                        : e.getCause().getMessage()));
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

    /**
     * Kills B's RENAME, then unlocks with the sentry still in place (so a RENAME that was not killed in time fails
     * on the name it would take), waits for B, and only then drops the sentry, if it is still this one.
     */
    private static Outcome undo(Statement sa, Connection a, long renamer, CompletableFuture<Void> rename,
                                String schema, String oldName, String mark, String why) throws SQLException {
        if (rename != null) {
            try (PreparedStatement kill = a.prepareStatement("KILL QUERY ?")) {
                kill.setLong(1, renamer);
                kill.execute();
            }
        }
        sa.execute("UNLOCK TABLES");
        if (rename != null) {
            try {
                rename.get(10, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                // Killed or refused, as intended.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (tableComment(a, schema, oldName).filter(mark::equals).isPresent()) {
            sa.execute("DROP TABLE " + Sql.quote(schema) + "." + Sql.quote(oldName));
        }
        return new Outcome(false, why);
    }

    /** Whether {@code schema.name} exists and is not a sentry. */
    static boolean isTableNotSentry(Connection c, String schema, String name) throws SQLException {
        return tableComment(c, schema, name).filter(comment -> !comment.startsWith(SENTRY_MARK)).isPresent();
    }

    /** Drops {@code schema.name} if it is a sentry an interrupted cut-over left (its comment says so). */
    static void dropIfSentry(Connection c, String schema, String name) throws SQLException {
        if (tableComment(c, schema, name).filter(comment -> comment.startsWith(SENTRY_MARK)).isPresent()) {
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE " + Sql.quote(schema) + "." + Sql.quote(name));
            }
        }
    }

    private static java.util.Optional<String> tableComment(Connection c, String schema, String table)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT TABLE_COMMENT FROM information_schema.TABLES"
                + " WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?")) {
            ps.setString(1, schema);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? java.util.Optional.of(rs.getString(1)) : java.util.Optional.empty();
            }
        }
    }

    private static long connectionId(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT CONNECTION_ID()")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
