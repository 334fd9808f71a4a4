package io.shardschema.online;

import com.github.shyiko.mysql.binlog.BinaryLogClient;
import com.github.shyiko.mysql.binlog.event.DeleteRowsEventData;
import com.github.shyiko.mysql.binlog.event.Event;
import com.github.shyiko.mysql.binlog.event.EventHeaderV4;
import com.github.shyiko.mysql.binlog.event.EventType;
import com.github.shyiko.mysql.binlog.event.QueryEventData;
import com.github.shyiko.mysql.binlog.event.RotateEventData;
import com.github.shyiko.mysql.binlog.event.TableMapEventData;
import com.github.shyiko.mysql.binlog.event.UpdateRowsEventData;
import com.github.shyiko.mysql.binlog.event.WriteRowsEventData;
import com.github.shyiko.mysql.binlog.event.deserialization.EventDeserializer;
import io.shardschema.config.Dsn;

import java.io.IOException;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The streamer: reads the shard server's binlog as a replica would (its own server id), from a position taken
 * before the copy starts, and notes the primary key of every row the table's events touch, for the flusher. It
 * fails closed: an event it cannot read, DDL on the table, a lost connection, all stop the change (see
 * {@link #failure()}), never a silent gap.
 */
final class BinlogStream implements AutoCloseable {
    /** A position in the binlog: file and offset; files sort by their number (6 digits, then 7 past 999999). */
    record Position(String file, long offset) implements Comparable<Position> {
        @Override
        public int compareTo(Position o) {
            int byFile = Long.compare(number(file), number(o.file));
            return byFile != 0 ? byFile : Long.compare(offset, o.offset);
        }

        private static long number(String file) {
            return Long.parseLong(file.substring(file.lastIndexOf('.') + 1));
        }
    }

    /** The binlog's end now: what every event committed so far comes before. */
    static Position current(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW MASTER STATUS")) {
            if (!rs.next()) {
                throw new SQLException("the server writes no binlog (SHOW MASTER STATUS is empty)");
            }
            return new Position(rs.getString(1), rs.getLong(2));
        }
    }

    private final BinaryLogClient client;
    private final SourceTable table;
    private final PrimaryKey key;
    private final Set<PrimaryKey.Key> pending = ConcurrentHashMap.newKeySet();
    private final Map<Long, Boolean> ourTables = new ConcurrentHashMap<>();
    private final AtomicReference<String> failure = new AtomicReference<>();
    private static final long SILENT_MILLIS = 5000;
    private volatile long lastEventNanos = System.nanoTime();
    private volatile String file;
    private volatile Position received;

    BinlogStream(Dsn server, SourceTable table, Position from) {
        this.table = table;
        this.key = new PrimaryKey(table.primaryKey());
        this.file = from.file();
        this.received = from;
        client = new BinaryLogClient(server.host(), server.port(), server.user(),
                server.password() == null ? "" : server.password());
        // A server id of its own, far from the ones replicas are given: a duplicate would disconnect a replica.
        client.setServerId(3_000_000_000L + ThreadLocalRandom.current().nextLong(1_000_000_000L));
        // Its reconnect resumes mid-transaction (and MariaDB then skips it): a lost connection stops the change.
        client.setKeepAlive(false);
        client.setHeartbeatInterval(1000);
        client.setBinlogFilename(from.file());
        client.setBinlogPosition(from.offset());
        EventDeserializer deserializer = new EventDeserializer();
        deserializer.setCompatibilityMode(EventDeserializer.CompatibilityMode.CHAR_AND_BINARY_AS_BYTE_ARRAY);
        // Unknown events (compressed, encrypted, newer) are dropped without a word by default: here they stop it.
        deserializer.setEventDataDeserializer(EventType.UNKNOWN, in -> {
            throw new IOException("an event of a type the binlog client does not know");
        });
        client.setEventDeserializer(deserializer);
        client.registerEventListener(event -> {
            // The client only logs what a listener throws: here it stops the change instead.
            try {
                onEvent(event);
            } catch (RuntimeException e) {
                fail("cannot follow a binlog event: " + e);
            }
        });
        client.registerLifecycleListener(new BinaryLogClient.AbstractLifecycleListener() {
            @Override
            public void onEventDeserializationFailure(BinaryLogClient c, Exception ex) {
                fail("cannot read a binlog event: " + ex.getMessage());
            }

            @Override
            public void onCommunicationFailure(BinaryLogClient c, Exception ex) {
                fail("the binlog connection failed: " + ex.getMessage());
            }

            @Override
            public void onDisconnect(BinaryLogClient c) {
                fail("the binlog connection ended");
            }
        });
    }

    void start() throws IOException {
        try {
            client.connect(10_000);
        } catch (TimeoutException e) {
            throw new IOException("no binlog connection within 10 s", e);
        }
    }

    private void fail(String why) {
        failure.compareAndSet(null, why);
    }

    /** Why the stream stopped, if it did (also when it fell silent: the server sends a heartbeat every second). */
    String failure() {
        long silentMillis = (System.nanoTime() - lastEventNanos) / 1_000_000;
        if (failure.get() == null && client.isConnected() && silentMillis > SILENT_MILLIS) {
            fail("no binlog event, not even a heartbeat, for " + silentMillis + " ms");
        }
        return failure.get();
    }

    /** Keys a flush took but could not write: noted again. */
    void requeue(Set<PrimaryKey.Key> keys) {
        pending.addAll(keys);
    }

    /** Takes the keys noted so far; they are noted again when touched again. */
    Set<PrimaryKey.Key> drain() {
        Set<PrimaryKey.Key> out = new java.util.HashSet<>();
        for (PrimaryKey.Key k : pending) {
            if (pending.remove(k)) {
                out.add(k);
            }
        }
        return out;
    }

    int pendingKeys() {
        return pending.size();
    }

    /** Every event before {@code p} has been read (its keys noted). */
    boolean reached(Position p) {
        return received.compareTo(p) >= 0;
    }

    private void onEvent(Event event) {
        lastEventNanos = System.nanoTime();
        EventHeaderV4 header = event.getHeader();
        EventType type = header.getEventType();
        switch (type) {
            case ROTATE -> file = ((RotateEventData) event.getData()).getBinlogFilename();
            case TABLE_MAP -> {
                TableMapEventData map = event.getData();
                ourTables.put(map.getTableId(), map.getDatabase().equals(table.schema())
                        && map.getTable().equals(table.name()));
            }
            case WRITE_ROWS, EXT_WRITE_ROWS -> {
                WriteRowsEventData d = event.getData();
                if (ours(d.getTableId())) {
                    fullImage(d.getIncludedColumns());
                    d.getRows().forEach(this::note);
                }
            }
            case UPDATE_ROWS, EXT_UPDATE_ROWS -> {
                UpdateRowsEventData d = event.getData();
                if (ours(d.getTableId())) {
                    fullImage(d.getIncludedColumnsBeforeUpdate());
                    fullImage(d.getIncludedColumns());
                    d.getRows().forEach(r -> {
                        note(r.getKey());
                        note(r.getValue());
                    });
                }
            }
            case DELETE_ROWS, EXT_DELETE_ROWS -> {
                DeleteRowsEventData d = event.getData();
                if (ours(d.getTableId())) {
                    fullImage(d.getIncludedColumns());
                    d.getRows().forEach(this::note);
                }
            }
            case QUERY -> {
                QueryEventData q = event.getData();
                BinlogQueries.problem(q.getSql(), q.getDatabase(), table.schema(), table.name()).ifPresent(this::fail);
            }
            case XA_PREPARE -> fail("an XA transaction, which the engine does not follow yet");
            default -> {
            }
        }
        // A rotate names the next file; every other event ends at its next position in the current one.
        if (type != EventType.ROTATE && header.getNextPosition() > 0) {
            received = new Position(file, header.getNextPosition());
        }
    }

    /**
     * Row images come packed to the columns they hold: a session with binlog_row_image=MINIMAL (a session
     * setting) would shift them. Only full images are read.
     */
    private void fullImage(java.util.BitSet included) {
        if (included.cardinality() != table.columns().size()) {
            throw new IllegalStateException("a row image of " + included.cardinality() + " of the table's "
                    + table.columns().size() + " columns (binlog_row_image other than FULL in a session)");
        }
    }

    private boolean ours(long tableId) {
        return Boolean.TRUE.equals(ourTables.get(tableId));
    }

    private void note(Serializable[] row) {
        pending.add(key.of(row));
    }

    @Override
    public void close() throws IOException {
        client.disconnect();
    }
}
