package io.shardschema.online;

import io.shardschema.ShardSchemaException;
import io.shardschema.change.PtOscAlter;
import io.shardschema.config.Dsn;
import io.shardschema.schema.Sql;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Optional;

/**
 * One online change of one table, role by role: the inspector refuses what cannot be done; the shadow table is
 * made; the stream starts from the binlog's end; the copier copies in chunks while the flusher brings over what
 * the stream notes; then a catch-up, the checksum in a consistent snapshot, and the sentry cut-over. Nothing
 * touches the table itself but the final swap.
 */
public final class Migration implements AutoCloseable {
    /** The change cannot run online, and nothing was touched (or what was made is gone again). */
    public static final class Refused extends Exception {
        Refused(String message) {
            super(message);
        }
    }

    /** The change stopped part way; the table is as it was (the shadow may remain, for the next run to drop). */
    public static final class Failed extends Exception {
        private final boolean rowsDoNotFit;

        Failed(String message) {
            this(message, false);
        }

        Failed(String message, boolean rowsDoNotFit) {
            super(message);
            this.rowsDoNotFit = rowsDoNotFit;
        }

        /** The table's rows do not fit the new definition (a warning, a duplicate): a retry fails the same way. */
        public boolean rowsDoNotFit() {
            return rowsDoNotFit;
        }
    }

    /** Connections to the shard's schema, each new (the cut-over needs two of its own). */
    @FunctionalInterface
    public interface Connections {
        Connection open() throws SQLException;
    }

    /**
     * What the change did: rows copied, how long the copy (with its catch-up) and the checksum took, cut-over
     * attempts, and how long writers waited on the swap.
     */
    public record Result(long rowsCopied, long copyMillis, long checksumMillis, int cutOverAttempts, long lockMillis,
                         String oldTable) {
        Result withCopy(Copied c) {
            return new Result(c.rows(), c.copyMillis(), c.checksumMillis(), cutOverAttempts, lockMillis, oldTable);
        }
    }

    /**
     * What the runner tells a running change, asked between chunks and while catching up: whether to hold
     * (nothing is copied or applied meanwhile; the stream goes on reading), whether to stop, and where the copy is.
     */
    public interface Control {
        Control NONE = new Control() {
        };

        /** While true, the change holds. */
        default boolean paused() {
            return false;
        }

        /** Why the change must stop now (a cancel, a lost lease), or null. */
        default String stopReason() {
            return null;
        }

        /** Rows copied so far, after each chunk. */
        default void copied(long rows) {
        }
    }

    private static final int CUTOVER_ATTEMPTS = 10;
    private static final long PAUSE_POLL_MILLIS = 100;
    private static final int CAUGHT_UP_KEYS = 1000;
    private static final long STREAM_WAIT_MILLIS = 500;
    private static final long CONFLICT_MILLIS = 5000;
    private static final int DUPLICATE_KEY = 1062;

    private final Connections connections;
    private final Control control;
    private final Clock clock;
    private final ShadowTable shadow;
    private final BinlogStream stream;
    private final Flusher flusher;
    private boolean checksummed;
    private String diverged;
    private long conflictSince;

    private Migration(Connections connections, Control control, Clock clock, ShadowTable shadow,
                      BinlogStream stream) {
        this.connections = connections;
        this.control = control;
        this.clock = clock;
        this.shadow = shadow;
        this.stream = stream;
        this.flusher = new Flusher(shadow, Flusher.changelogName(shadow.source().name()));
    }

    /**
     * Checks, then makes the shadow table with {@code command} applied and starts following the binlog of
     * {@code server} (the shard's server, with credentials that may read its binlog).
     */
    public static Migration prepare(Connections connections, Dsn server, String schema, String table, String command,
                                    Control control, Clock clock) throws SQLException, Refused {
        try (Connection c = connections.open()) {
            var problems = Inspector.serverProblems(c);
            if (!problems.isEmpty()) {
                throw new Refused(String.join("; ", problems));
            }
            SourceTable source = SourceTable.read(c, schema, table)
                    .orElseThrow(() -> new Refused("table " + table + " does not exist in " + schema));
            Optional<String> problem = Inspector.tableProblem(c, source);
            if (problem.isPresent()) {
                throw new Refused(problem.get());
            }
            Map<String, String> renames = Map.of();
            String unreadable = null;
            try {
                renames = PtOscAlter.read(table, command).renames();
            } catch (ShardSchemaException e) {
                unreadable = e.getMessage();
            }
            ShadowTable shadow;
            try {
                shadow = ShadowTable.create(c, source, command, renames);
            } catch (SQLException e) {
                removeLeftovers(c, schema, table, null);
                // The server refuses the ALTER on this table (a syntax or name error): the same every time.
                if (e.getSQLState() != null && e.getSQLState().startsWith("42")) {
                    throw new Refused("the ALTER fails on this shard's table: " + e.getMessage());
                }
                throw e;
            }
            Optional<String> shadowProblem = Inspector.shadowProblem(shadow);
            if (shadowProblem.isPresent() || unreadable != null) {
                shadow.drop(c);
                throw new Refused(shadowProblem.orElse("the online engine reads an ALTER's renames as pt-osc's"
                        + " checks do, which refuse it: " + unreadable));
            }
            BinlogStream stream = null;
            try {
                Flusher.createChangelog(c, schema, table);
                stream = new BinlogStream(server, source, BinlogStream.current(c));
                stream.start();
                return new Migration(connections, control, clock, shadow, stream);
            } catch (IOException e) {
                abandon(c, stream, schema, table);
                throw new SQLException("cannot read the binlog: " + e.getMessage(), e);
            } catch (SQLException | RuntimeException e) {
                abandon(c, stream, schema, table);
                throw e;
            }
        }
    }

    /** A preparation that failed half way: its stream stopped, its tables gone. */
    private static void abandon(Connection c, BinlogStream stream, String schema, String table) throws SQLException {
        if (stream != null) {
            closeQuietly(stream);
        }
        removeLeftovers(c, schema, table, null);
    }

    private static void closeQuietly(BinlogStream stream) {
        try {
            stream.close();
        } catch (IOException e) {
            // the stream is gone either way
        }
    }

    /** Copies, then swaps: {@link #copy()} and {@link #cutOver(String)} in one. */
    public Result run(String oldTable) throws SQLException, Failed {
        Copied copied = copy();
        return cutOver(oldTable).withCopy(copied);
    }

    /** What the copy did: rows copied, how long the copy (with its catch-up) and the checksum took. */
    public record Copied(long rows, long copyMillis, long checksumMillis) {
    }

    /**
     * Copies, catches up and checks the shadow against the table; afterwards the shadow is kept in sync for as long
     * as this migration catches up ({@link #cutOver} does, first).
     */
    public Copied copy() throws SQLException, Failed {
        long copied;
        long started = clock.millis();
        try (Connection work = connections.open()) {
            Copier.configure(work);
            // A transaction binlogged before the stream's start may not be visible yet: the first chunk waits for it.
            flusher.barrier(work);
            Copier copier = new Copier(shadow, clock);
            try {
                holdOrStop();
                while (copier.next(work)) {
                    control.copied(copier.copied());
                    flush(work);
                    holdOrStop();
                }
            } catch (Copier.Lossy e) {
                throw new Failed(e.getMessage(), true);
            }
            copied = copier.copied();
            catchUp(work);
        }
        long copyMillis = clock.millis() - started;
        try (Connection a = connections.open(); Connection reader = connections.open()) {
            Copier.configure(a);
            Checksum.Sum[] sums = Checksum.compare(a, reader, shadow, this::finalFlush);
            checksummed = true;
            if (!sums[0].equals(sums[1])) {
                throw new Failed("the shadow table differs from the table (" + sums[0].rows() + " rows, checksum "
                        + sums[0].crc() + " against " + sums[1].rows() + " rows, checksum " + sums[1].crc()
                        + "): nothing was swapped");
            }
        }
        return new Copied(copied, copyMillis, clock.millis() - started - copyMillis);
    }

    /** Swaps the checked shadow in; the old table keeps the name in {@link Result#oldTable()}. */
    public Result cutOver(String oldTable) throws SQLException, Failed {
        if (!checksummed) {
            throw new IllegalStateException("the cut-over comes after a completed copy");
        }
        if (!oldTable.startsWith(shadow.source().name()) || oldTable.length() > 64) {
            throw new IllegalArgumentException("the old table's name must start with the table's: " + oldTable);
        }
        SentryCutOver cutOver = new SentryCutOver(clock);
        String why = null;
        for (int attempt = 1; attempt <= CUTOVER_ATTEMPTS; attempt++) {
            holdOrStop();
            try (Connection work = connections.open()) {
                Copier.configure(work);
                catchUp(work);
            }
            try (Connection a = connections.open(); Connection b = connections.open()) {
                Copier.configure(a);
                long start = clock.millis();
                SentryCutOver.Outcome o = cutOver.attempt(a, b, shadow, oldTable, this::finalFlush);
                if (diverged != null) {
                    throw new Failed(diverged);
                }
                if (o.swapped()) {
                    return new Result(0, 0, 0, attempt, clock.millis() - start, oldTable);
                }
                why = o.why();
            }
            sleep(Math.min(10_000, 100L << attempt));
        }
        throw new Failed("the cut-over did not succeed in " + CUTOVER_ATTEMPTS + " attempts: " + why);
    }

    /** While the runner says pause, waits (the stream goes on reading); fails when it says stop. */
    private void holdOrStop() throws Failed {
        while (true) {
            String stop = control.stopReason();
            if (stop != null) {
                throw new Failed("stopped: " + stop);
            }
            failIfStopped();
            if (Thread.currentThread().isInterrupted()) {
                throw new Failed("interrupted");
            }
            if (!control.paused()) {
                return;
            }
            sleep(PAUSE_POLL_MILLIS);
        }
    }

    /**
     * Brings over the keys noted so far; how many there were. A unique key of the shadow that two rows collide on
     * (1062) is most often two rows trading values, the second change not read yet: the keys wait and come again;
     * a collision that lasts {@link #CONFLICT_MILLIS} is a duplicate the change would drop a row for.
     */
    private int flush(Connection work) throws SQLException, Failed {
        failIfStopped();
        Set<PrimaryKey.Key> keys = stream.drain();
        try {
            flusher.flush(work, keys);
            conflictSince = 0;
        } catch (SQLException e) {
            stream.requeue(keys);
            if (e.getErrorCode() != DUPLICATE_KEY) {
                throw e;
            }
            conflictSince = conflictSince == 0 ? clock.millis() : conflictSince;
            if (clock.millis() - conflictSince > CONFLICT_MILLIS) {
                throw new Failed("the copy would lose or change rows: " + e.getMessage(), true);
            }
            sleep(20);
            return 0;
        }
        return keys.size();
    }

    /** Flushes until few keys are left: the stream has read to the binlog's end of a moment ago. */
    private void catchUp(Connection work) throws SQLException, Failed {
        BinlogStream.Position end = BinlogStream.current(work);
        do {
            holdOrStop();
            if (flush(work) == 0) {
                sleep(5);
            }
        } while (!stream.reached(end) || stream.pendingKeys() > CAUGHT_UP_KEYS);
    }

    /** Under a lock that keeps writers off the table: the stream reads to the binlog's end, its keys are brought over. */
    private void finalFlush(Connection locked) throws SQLException {
        BinlogStream.Position end = BinlogStream.current(locked);
        long start = clock.millis();
        while (!stream.reached(end)) {
            if (stream.failure() != null || clock.millis() - start > STREAM_WAIT_MILLIS) {
                throw new SQLException("the binlog stream did not reach " + end + " in time"
                        + (stream.failure() == null ? "" : ": " + stream.failure()));
            }
            sleep(2);
        }
        Set<PrimaryKey.Key> keys = stream.drain();
        try {
            flusher.refresh(locked, keys);
        } catch (SQLException e) {
            stream.requeue(keys);
            throw e;
        }
        // Before the swap, the table being still, the rows of the last moments are checked: the checksum proved
        // the flusher's writes up to its snapshot, and this guards the same writes after it where it costs least.
        // (Checking every key flushed since, under a busy writer, costs as much as the flushes themselves.)
        List<PrimaryKey.Key> differing = checksummed ? Checksum.differing(locked, shadow, new ArrayList<>(keys))
                : List.of();
        if (!differing.isEmpty()) {
            diverged = differing.size() + " row(s) flushed under the cut-over's lock differ between the table and"
                    + " the shadow (key " + differing.get(0).values() + "): nothing was swapped";
            throw new SQLException(diverged);
        }
    }

    private void failIfStopped() throws Failed {
        if (stream.failure() != null) {
            throw new Failed(stream.failure());
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The name the table has after the swap, in the engine's naming (it starts with the table's: see README). */
    public static String oldTableName(String table, String stamp) {
        return table + "__" + stamp + "_old";
    }

    /** The shadow table the change of {@code table} builds. */
    public static String shadowTableName(String table) {
        return ShadowTable.nameFor(table);
    }

    /** Whether {@code schema.oldTable} exists and is not a sentry: the table a swap renamed. */
    public static boolean isOldTable(Connection c, String schema, String oldTable) throws SQLException {
        return oldTable != null && SentryCutOver.isTableNotSentry(c, schema, oldTable);
    }

    /**
     * Removes what an interrupted change of {@code table} left (its runner killed mid-copy or mid-swap): the
     * shadow, the changelog, and a sentry under {@code oldTable} (null: none recorded), only if it says it is one.
     * The table itself is never touched.
     */
    public static void removeLeftovers(Connection c, String schema, String table, String oldTable)
            throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + Sql.quote(schema) + "." + Sql.quote(ShadowTable.nameFor(table)) + ", "
                    + Sql.quote(schema) + "." + Sql.quote(Flusher.changelogName(table)));
        }
        if (oldTable != null) {
            SentryCutOver.dropIfSentry(c, schema, oldTable);
        }
    }

    /** Stops the stream and drops the changelog table (and, unless swapped, the shadow). */
    @Override
    public void close() throws SQLException {
        closeQuietly(stream);
        try (Connection c = connections.open(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + Sql.quote(shadow.source().schema()) + "."
                    + Sql.quote(Flusher.changelogName(shadow.source().name())));
            if (SourceTable.read(c, shadow.source().schema(), shadow.shadow().name()).isPresent()) {
                shadow.drop(c);
            }
        }
    }
}
