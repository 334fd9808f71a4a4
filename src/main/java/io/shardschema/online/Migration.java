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
import java.util.Map;
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

    /** What the change did: rows copied, cut-over attempts, and the longest time writers waited on the swap. */
    public record Result(long rowsCopied, int cutOverAttempts, long lockMillis, String oldTable) {
    }

    private static final int CUTOVER_ATTEMPTS = 10;
    private static final int CAUGHT_UP_KEYS = 1000;
    private static final long STREAM_WAIT_MILLIS = 500;

    private final Connections connections;
    private final Clock clock;
    private final ShadowTable shadow;
    private final BinlogStream stream;
    private final Flusher flusher;

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
            Map<String, String> renames;
            try {
                renames = PtOscAlter.read(table, command).renames();
            } catch (ShardSchemaException e) {
                throw new Refused(e.getMessage());
            }
            ShadowTable shadow = ShadowTable.create(c, source, command, renames);
            Optional<String> shadowProblem = Inspector.shadowProblem(shadow);
            if (shadowProblem.isPresent()) {
                shadow.drop(c);
                throw new Refused(shadowProblem.get());
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
        try (Connection work = connections.open()) {
            Copier.configure(work);
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
        try (Connection a = connections.open(); Connection reader = connections.open()) {
            Checksum.Sum[] sums = Checksum.compare(a, reader, shadow, this::finalFlush);
            if (!sums[0].equals(sums[1])) {
                throw new Failed("the shadow table differs from the table (" + sums[0].rows() + " rows, checksum "
                        + sums[0].crc() + " against " + sums[1].rows() + " rows, checksum " + sums[1].crc()
                        + "): nothing was swapped");
            }
        }
        SentryCutOver cutOver = new SentryCutOver(clock);
        String why = null;
        for (int attempt = 1; attempt <= CUTOVER_ATTEMPTS; attempt++) {
            try (Connection work = connections.open()) {
                Copier.configure(work);
                catchUp(work);
            }
            try (Connection a = connections.open(); Connection b = connections.open()) {
                long start = clock.millis();
                SentryCutOver.Outcome o = cutOver.attempt(a, b, shadow, oldTable, this::finalFlush);
                if (o.swapped()) {
                    return new Result(copied, attempt, clock.millis() - start, oldTable);
                }
                why = o.why();
            }
            sleep(Math.min(10_000, 100L << attempt));
        }
        throw new Failed("the cut-over did not succeed in " + CUTOVER_ATTEMPTS + " attempts: " + why);
    }

    /** Brings over the keys noted so far; how many there were. */
    private int flush(Connection work) throws SQLException, Failed {
        failIfStopped();
        var keys = stream.drain();
        flusher.flush(work, keys);
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
        flusher.refresh(locked, stream.drain());
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
