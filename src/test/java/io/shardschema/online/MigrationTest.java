package io.shardschema.online;

import io.shardschema.config.DataSources;
import io.shardschema.config.Dsn;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The binlog engine end to end on real servers (MariaDB 11.4 and Debian's 10.11, ROW binlogs): a table copied,
 * kept in sync from the binlog under a writer that keeps its own ledger (inserts, updates, deletes, key changes,
 * also of the rows next to a chunk's bounds), checked and swapped. Afterwards the table is the ledger: no row
 * lost, none resurrected, no writer error; the writer's longest wait is measured.
 */
class MigrationTest {
    static Stream<String> flavours() {
        return TestServers.FLAVOURS.stream();
    }

    /** A table keyed by (a, b) or by id, with {@code rows} rows; the writer's ledger of it. */
    private record Fixture(String schema, boolean composite, Map<String, String> ledger) {
        String keyOf(ResultSet rs) throws SQLException {
            return composite ? rs.getInt("a") + "/" + rs.getString("b") : String.valueOf(rs.getInt("id"));
        }
    }

    private static Fixture fixture(String flavour, boolean composite, int rows) throws SQLException {
        String schema = "mig_" + UUID.randomUUID().toString().substring(0, 6);
        Map<String, String> ledger = new HashMap<>();
        try (Connection c = connect(flavour, null); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + schema);
            s.execute("USE " + schema);
            if (composite) {
                s.execute("CREATE TABLE t (a INT NOT NULL, b VARCHAR(20) CHARACTER SET utf8mb4 NOT NULL,"
                        + " v VARCHAR(40), n INT, PRIMARY KEY (a, b))");
                s.execute("INSERT INTO t (a, b, v, n) SELECT seq DIV 3, CONCAT('k', seq MOD 3, 'é'), CONCAT('v', seq),"
                        + " seq FROM seq_1_to_" + rows);
            } else {
                s.execute("CREATE TABLE t (id INT NOT NULL PRIMARY KEY, v VARCHAR(40), n INT)");
                s.execute("INSERT INTO t (id, v, n) SELECT seq, CONCAT('v', seq), seq FROM seq_1_to_" + rows);
            }
            try (ResultSet rs = s.executeQuery("SELECT * FROM t")) {
                Fixture f = new Fixture(schema, composite, ledger);
                while (rs.next()) {
                    ledger.put(f.keyOf(rs), rs.getString("v"));
                }
            }
        }
        return new Fixture(schema, composite, ledger);
    }

    private static Connection connect(String flavour, String schema) throws SQLException {
        return DataSources.connect(TestServers.binlog(flavour).rootDsn(schema));
    }

    /**
     * The writer: random inserts, updates, deletes and key changes, one autocommit statement each, recorded in
     * the ledger once the server said yes; its errors and its longest statement are counted.
     */
    private static final class Writer implements Runnable {
        final Fixture f;
        final Connection c;
        final AtomicBoolean stop = new AtomicBoolean();
        final List<String> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        final Random random = new Random(42);
        volatile long longestMillis;
        volatile int statements;
        int next = 1_000_000;

        Writer(Fixture f, Connection c) {
            this.f = f;
            this.c = c;
        }

        @Override
        public void run() {
            List<String> keys = new ArrayList<>(f.ledger.keySet());
            while (!stop.get()) {
                try {
                    long start = System.nanoTime();
                    write(keys);
                    statements++;
                    longestMillis = Math.max(longestMillis, (System.nanoTime() - start) / 1_000_000);
                } catch (SQLException | RuntimeException e) {
                    errors.add(e.toString());
                }
            }
        }

        private void write(List<String> keys) throws SQLException {
            int op = random.nextInt(4);
            String value = "w" + random.nextInt(1_000_000);
            if (op == 0 || keys.isEmpty()) {
                String key = f.composite ? (next++) + "/n" : String.valueOf(next++);
                execute("INSERT INTO t (" + columns() + ", v) VALUES (" + marks() + ", ?)", value, key);
                f.ledger.put(key, value);
                keys.add(key);
                return;
            }
            int index = random.nextInt(keys.size());
            String key = keys.get(index);
            if (op == 1) {
                execute("UPDATE t SET v = ? WHERE " + where(), value, key);
                f.ledger.put(key, value);
            } else if (op == 2) {
                execute("DELETE FROM t WHERE " + where(), null, key);
                f.ledger.remove(key);
                keys.set(index, keys.get(keys.size() - 1));
                keys.remove(keys.size() - 1);
            } else {
                String moved = f.composite ? (next++) + "/m" : String.valueOf(next++);
                try (PreparedStatement ps = c.prepareStatement("UPDATE t SET " + (f.composite ? "a = ?, b = ?"
                        : "id = ?") + " WHERE " + where())) {
                    int p = bindKey(ps, 1, moved);
                    bindKey(ps, p, key);
                    ps.executeUpdate();
                }
                f.ledger.put(moved, f.ledger.remove(key));
                keys.set(index, moved);
            }
        }

        private String columns() {
            return f.composite ? "a, b" : "id";
        }

        private String marks() {
            return f.composite ? "?, ?" : "?";
        }

        private String where() {
            return f.composite ? "a = ? AND b = ?" : "id = ?";
        }

        /** Binds (value first when given, then the key) for INSERT (key, value) and UPDATE/DELETE ... WHERE key. */
        private void execute(String sql, String value, String key) throws SQLException {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                if (sql.startsWith("INSERT")) {
                    int p = bindKey(ps, 1, key);
                    ps.setString(p, value);
                } else {
                    int p = 1;
                    if (value != null) {
                        ps.setString(p++, value);
                    }
                    bindKey(ps, p, key);
                }
                ps.executeUpdate();
            }
        }

        private int bindKey(PreparedStatement ps, int p, String key) throws SQLException {
            if (f.composite) {
                String[] parts = key.split("/", 2);
                ps.setInt(p, Integer.parseInt(parts[0]));
                ps.setString(p + 1, parts[1]);
                return p + 2;
            }
            ps.setInt(p, Integer.parseInt(key));
            return p + 1;
        }
    }

    @ParameterizedTest
    @MethodSource("flavours")
    void aTableChangedUnderAWriterEqualsItsLedger(String flavour) throws Exception {
        for (boolean composite : List.of(false, true)) {
            Fixture f = fixture(flavour, composite, 200_000);
            Dsn server = TestServers.binlog(flavour).rootDsn(null);
            try (Connection writerConnection = connect(flavour, f.schema())) {
                Writer writer = new Writer(f, writerConnection);
                Thread thread = new Thread(writer, "writer");
                thread.start();
                while (writer.statements < 200 && writer.errors.isEmpty() && thread.isAlive()) {
                    Thread.sleep(10);
                }
                int before = writer.statements;
                Migration.Result result;
                try (Migration m = Migration.prepare(() -> connect(flavour, f.schema()), server, f.schema(), "t",
                        "ADD COLUMN z INT NOT NULL DEFAULT 7, MODIFY v VARCHAR(60), DROP COLUMN n",
                        Migration.Control.NONE, Clock.systemUTC())) {
                    result = m.run("t__20261203t000000_old");
                } finally {
                    writer.stop.set(true);
                    thread.join();
                }
                String what = flavour + (composite ? ", key (a, b)" : ", key id");
                System.out.printf("%s: %d rows copied, %d writer statements, longest %d ms, cut-over attempts %d,"
                        + " lock %d ms%n", what, result.rowsCopied(), writer.statements, writer.longestMillis,
                        result.cutOverAttempts(), result.lockMillis());
                assertThat(writer.errors).as(what).isEmpty();
                assertThat(writer.statements - before).as(what + ": the writer wrote during the change")
                        .isGreaterThan(100);
                Map<String, String> table = new HashMap<>();
                try (Connection c = connect(flavour, f.schema()); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT * FROM t")) {
                    assertThat(rs.getMetaData().getColumnCount()).as("the change is in place").isEqualTo(composite ? 4 : 3);
                    while (rs.next()) {
                        assertThat(rs.getInt("z")).isEqualTo(7);
                        table.put(f.keyOf(rs), rs.getString("v"));
                    }
                }
                assertThat(differences(f.ledger(), table)).as(what + ": the table differs from the writer's ledger")
                        .isEmpty();
                assertThat(writer.longestMillis).as(what + ": the writer's longest wait").isLessThan(1000);
            }
        }
    }

    /** The first differences between the ledger and the table: key, then ledger's and table's value. */
    private static List<String> differences(Map<String, String> ledger, Map<String, String> table) {
        List<String> out = new ArrayList<>();
        java.util.Set<String> keys = new java.util.TreeSet<>(ledger.keySet());
        keys.addAll(table.keySet());
        for (String k : keys) {
            if (!java.util.Objects.equals(ledger.get(k), table.get(k)) && out.size() < 20) {
                out.add(k + ": ledger " + ledger.get(k) + ", table " + table.get(k));
            }
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("flavours")
    void whatCannotBeDoneOnlineIsRefusedWithNothingTouched(String flavour) throws Exception {
        Fixture f = fixture(flavour, false, 10);
        Dsn server = TestServers.binlog(flavour).rootDsn(null);
        try (Connection c = connect(flavour, f.schema()); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE nokey (v INT)");
            s.execute("CREATE TABLE child (id INT PRIMARY KEY, t_id INT, FOREIGN KEY (t_id) REFERENCES t (id))");
            s.execute("CREATE TABLE trig (id INT PRIMARY KEY)");
            s.execute("CREATE TRIGGER trig_ai AFTER INSERT ON trig FOR EACH ROW SET @x = 1");
            s.execute("CREATE TABLE dated (d DATE PRIMARY KEY)");
        }
        Object[][] cases = {
                {"nokey", "ADD COLUMN c INT", "has no primary key"},
                {"t", "ADD COLUMN c INT", "takes part in a foreign key"},
                {"trig", "ADD COLUMN c INT", "has triggers"},
                {"dated", "ADD COLUMN c INT", "primary key column d is date"},
                {"child", "DROP PRIMARY KEY, ADD PRIMARY KEY (t_id)", "takes part in a foreign key"},
        };
        for (Object[] k : cases) {
            assertThatThrownBy(() -> Migration.prepare(() -> connect(flavour, f.schema()), server, f.schema(),
                    (String) k[0], (String) k[1], Migration.Control.NONE, Clock.systemUTC())).as(flavour + " " + k[0])
                    .isInstanceOf(Migration.Refused.class).hasMessageContaining((String) k[2]);
        }
        try (Connection c = connect(flavour, f.schema()); Statement s = c.createStatement()) {
            s.execute("DROP TABLE child");
            s.execute("CREATE TABLE pk (id INT PRIMARY KEY, other INT NOT NULL)");
        }
        assertThatThrownBy(() -> Migration.prepare(() -> connect(flavour, f.schema()), server, f.schema(), "pk",
                "DROP PRIMARY KEY, ADD PRIMARY KEY (other)", Migration.Control.NONE, Clock.systemUTC()))
                .isInstanceOf(Migration.Refused.class).hasMessageContaining("alters the primary key");
        try (Connection c = connect(flavour, f.schema()); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT GROUP_CONCAT(TABLE_NAME ORDER BY TABLE_NAME) FROM"
                     + " information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")) {
            rs.next();
            assertThat(rs.getString(1)).as("no shadow or changelog left").isEqualTo("dated,nokey,pk,t,trig");
        }
    }
}
