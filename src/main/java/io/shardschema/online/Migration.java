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
import java.util.HashSet;
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
        Failed(String message) {
            super(message);
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
    }

    private static final int CUTOVER_ATTEMPTS = 10;
    private static final int CAUGHT_UP_KEYS = 1000;
    private static final long STREAM_WAIT_MILLIS = 500;
    private static final long CONFLICT_MILLIS = 5000;
    private static final int DUPLICATE_KEY = 1062;

    private final Connections connections;
    private final Clock clock;
    private final ShadowTable shadow;
    private final BinlogStream stream;
    private final Flusher flusher;
    /**
     * Keys flushed after the checksum's snapshot whose rows differed when checked right after their flush: checked
     * again under the cut-over's lock. Checking each flush at once keeps this to the keys written in that moment.
     */
    private final Set<PrimaryKey.Key> sinceChecksum = new HashSet<>();
    private boolean checksummed;
    private String diverged;
    private long conflictSince;

    private Migration(Connections connections, Clock clock, ShadowTable shadow, BinlogStream stream) {
        this.connections = connections;
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
                                    Clock clock) throws SQLException, Refused {
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
            ShadowTable shadow = ShadowTable.create(c, source, command, renames);
            Optional<String> shadowProblem = Inspector.shadowProblem(shadow);
            if (shadowProblem.isPresent() || unreadable != null) {
                shadow.drop(c);
                throw new Refused(shadowProblem.orElse("the online engine reads an ALTER's renames as pt-osc's"
                        + " checks do, which refuse it: " + unreadable));
            }
            Flusher.createChangelog(c, schema, table);
            BinlogStream stream = new BinlogStream(server, source, BinlogStream.current(c));
            try {
                stream.start();
            } catch (IOException e) {
                throw new SQLException("cannot read the binlog: " + e.getMessage(), e);
            }
            return new Migration(connections, clock, shadow, stream);
        }
    }

    /** Copies, catches up, checks and swaps; the old table keeps the name in {@link Result#oldTable()}. */
    public Result run(String oldTable) throws SQLException, Failed {
        if (!oldTable.startsWith(shadow.source().name()) || oldTable.length() > 64) {
            throw new IllegalArgumentException("the old table's name must start with the table's: " + oldTable);
        }
        long copied;
        long started = clock.millis();
        try (Connection work = connections.open()) {
            Copier.configure(work);
            // A transaction binlogged before the stream's start may not be visible yet: the first chunk waits for it.
            flusher.barrier(work);
            Copier copier = new Copier(shadow, clock);
            try {
                while (copier.next(work)) {
                    flush(work);
                }
            } catch (Copier.Lossy e) {
                throw new Failed(e.getMessage());
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
        long checksumMillis = clock.millis() - started - copyMillis;
        SentryCutOver cutOver = new SentryCutOver(clock);
        String why = null;
        for (int attempt = 1; attempt <= CUTOVER_ATTEMPTS; attempt++) {
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
                    return new Result(copied, copyMillis, checksumMillis, attempt, clock.millis() - start, oldTable);
                }
                why = o.why();
            }
            sleep(Math.min(10_000, 100L << attempt));
        }
        throw new Failed("the cut-over did not succeed in " + CUTOVER_ATTEMPTS + " attempts: " + why);
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
                throw new Failed("the copy would lose or change rows: " + e.getMessage());
            }
            sleep(20);
            return 0;
        }
        if (checksummed) {
            sinceChecksum.removeAll(keys);
            sinceChecksum.addAll(Checksum.differing(work, shadow, new ArrayList<>(keys)));
        }
        return keys.size();
    }

    /** Flushes until few keys are left: the stream has read to the binlog's end of a moment ago. */
    private void catchUp(Connection work) throws SQLException, Failed {
        BinlogStream.Position end = BinlogStream.current(work);
        do {
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
        // Before the swap, the table being still: the keys of the last moments, and those that differed when
        // flushed (most often changed again, and so flushed again since), are checked.
        if (checksummed) {
            sinceChecksum.addAll(keys);
        }
        List<PrimaryKey.Key> differing = checksummed ? Checksum.differing(locked, shadow,
                new ArrayList<>(sinceChecksum)) : List.of();
        if (!differing.isEmpty()) {
            diverged = differing.size() + " row(s) changed after the checksum differ between the table and the"
                    + " shadow (key " + differing.get(0).values() + "): nothing was swapped";
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

    /** Stops the stream and drops the changelog table (and, unless swapped, the shadow). */
    @Override
    public void close() throws SQLException {
        try {
            stream.close();
        } catch (IOException e) {
            // the stream is gone either way
        }
        try (Connection c = connections.open(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + Sql.quote(shadow.source().schema()) + "."
                    + Sql.quote(Flusher.changelogName(shadow.source().name())));
            if (SourceTable.read(c, shadow.source().schema(), shadow.shadow().name()).isPresent()) {
                shadow.drop(c);
            }
        }
    }
}
