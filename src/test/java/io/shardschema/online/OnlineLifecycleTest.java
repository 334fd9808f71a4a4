package io.shardschema.online;

import com.fasterxml.jackson.databind.JsonNode;
import io.shardschema.testing.Cli;
import io.shardschema.testing.TestTools;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The online lifecycle through real pt-online-schema-change on a real MariaDB: gates, cut-over, cancel. */
class OnlineLifecycleTest {
    private static final int ROWS = 100_000;

    @BeforeAll
    static void ptOsc() {
        TestTools.ensurePtOsc();
    }

    @Test
    void aBigTableIsAlteredThroughEveryGateWhileAWriterKeepsWriting() throws Exception {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "online", 1);
        fleet.registerAll();
        String schema = fleet.schemas.get(0);
        try (Connection c = fleet.connect(schema); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE big (id INT AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL, v VARCHAR(40) NOT NULL)");
            s.execute("INSERT INTO big (k, v) SELECT seq, CONCAT('row', seq) FROM seq_1_to_" + ROWS);
            // Fresh statistics: pt-osc copies a table it believes small in one chunk.
            s.execute("ANALYZE TABLE big");
        }
        Cli.Result add = cli(fleet, "version", "add", "--type", "pt-osc", "--table", "big", "--command",
                "ADD COLUMN z INT NOT NULL DEFAULT 0", "--option", "chunk-size=5000");
        assertThat(add.exit()).as(add.all()).isZero();

        try (Writer writer = new Writer(fleet, schema)) {
            // Gate 1: prepared, nothing copied.
            assertThat(cli(fleet, "run").exit()).isZero();
            assertThat(phase(fleet)).isEqualTo("awaiting approval");
            assertThat(shardState(fleet)).isEqualTo("waiting");
            assertThat(cli(fleet, "status").out()).contains("waiting at a gate (`approve V` or `cutover V` opens it): "
                    + fleet.shardName(1) + " at version 1 (awaiting approval)");
            assertThat(tables(fleet, schema)).containsExactly("big", "t");
            assertThat(triggers(fleet, schema)).isZero();
            assertThat(fleet.count("SELECT tableRows FROM " + cat(fleet) + ".online")).isPositive();

            // Gate 2: copied and kept in sync, nothing swapped.
            assertThat(cli(fleet, "approve", "1").exit()).isZero();
            assertThat(cli(fleet, "run").exit()).isZero();
            assertThat(phase(fleet)).isEqualTo("awaiting cut-over");
            assertThat(columns(fleet, schema, "big")).doesNotContain("z");
            assertThat(columns(fleet, schema, "_big_new")).contains("z");
            assertThat(triggers(fleet, schema)).isEqualTo(3);
            Thread.sleep(1000);

            assertThat(cli(fleet, "cutover", "1").exit()).isZero();
            Cli.Result last = cli(fleet, "run");
            assertThat(last.exit()).as(last.all()).isZero();
            writer.stop();

            assertThat(writer.errors).isEmpty();
            assertThat(writer.operations.get()).as("writes during copy and cut-over").isGreaterThan(100);
            assertThat(columns(fleet, schema, "big")).contains("z");
            assertThat(contents(fleet, schema)).isEqualTo(new TreeMap<>(writer.expected));
        }
        assertThat(phase(fleet)).isEqualTo("completed");
        assertThat(fleet.shardColumn("SELECT version FROM " + cat(fleet) + ".shards")).containsExactly("1");
        assertThat(triggers(fleet, schema)).isZero();
        assertThat(tables(fleet, schema)).containsExactly("big", "t");
        List<String> pending = tables(fleet, fleet.prefix + "_pending");
        assertThat(pending).singleElement().asString().endsWith("_" + schema + "_big");
        assertThat(columns(fleet, fleet.prefix + "_pending", pending.get(0))).doesNotContain("z");
        assertThat(fleet.column("SELECT state FROM " + cat(fleet) + ".log ORDER BY run"))
                .containsExactly("waiting", "waiting", "applied");
        assertThat(fleet.column("SELECT output FROM " + cat(fleet) + ".log WHERE run = 2").get(0))
                .contains("Copying approximately").contains("Copied rows OK");
    }

    @Test
    void cancelRemovesTheShadowTableAndTriggersAndRetryStartsOver() {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "cancel", 1);
        fleet.registerAll();
        String schema = fleet.schemas.get(0);
        assertThat(cli(fleet, "version", "add", "--type", "pt-osc", "--auto-approve", "--table", "t", "--command",
                "ADD COLUMN z INT").exit()).isZero();
        assertThat(cli(fleet, "run").exit()).isZero();
        assertThat(phase(fleet)).isEqualTo("awaiting cut-over");
        assertThat(triggers(fleet, schema)).isEqualTo(3);
        assertThat(cli(fleet, "status").out()).contains("waiting at a gate (`approve V` or `cutover V` opens it): "
                + fleet.shardName(1) + " at version 1 (awaiting cut-over)");
        JsonNode status = cli(fleet, "status", "--json").json();
        assertThat(status.path("waitingShards").asInt()).isEqualTo(1);
        assertThat(status.path("waiting")).hasSize(1);
        assertThat(status.at("/waiting/0/shardId").asLong()).isEqualTo(1);
        assertThat(status.at("/waiting/0/schema").asText()).isEqualTo(schema);
        assertThat(status.at("/waiting/0/version").asInt()).isEqualTo(1);
        assertThat(status.at("/waiting/0/phase").asText()).isEqualTo("awaiting cut-over");
        assertThat(status.path("failed")).isEmpty();
        Cli.Result remove = cli(fleet, "shard", "remove", "1");
        assertThat(remove.exit()).as("a waiting shard has triggers on its table").isEqualTo(4);
        assertThat(remove.err()).contains("cancel");

        assertThat(cli(fleet, "cancel", "1").exit()).isZero();
        assertThat(cli(fleet, "run").exit()).isEqualTo(3);
        assertThat(phase(fleet)).isEqualTo("cancelled");
        assertThat(shardState(fleet)).isEqualTo("failed");
        assertThat(cli(fleet, "status").out()).contains("runs it again): " + fleet.shardName(1) + " at version 1 (cancelled)")
                .doesNotContain("waiting at a gate");
        assertThat(tables(fleet, schema)).containsExactly("t");
        assertThat(triggers(fleet, schema)).isZero();
        assertThat(columns(fleet, schema, "t")).containsExactly("id", "v");
        assertThat(fleet.column("SELECT state FROM " + cat(fleet) + ".log ORDER BY run DESC LIMIT 1"))
                .containsExactly("cancelled");

        assertThat(cli(fleet, "retry", "--all").exit()).isZero();
        assertThat(cli(fleet, "run").exit()).isZero();
        assertThat(phase(fleet)).isEqualTo("awaiting cut-over");
        Cli.Result cutover = cli(fleet, "cutover", "1", "--shard", "1", "--json");
        assertThat(cutover.exit()).as(cutover.all()).isZero();
        assertThat(cutover.json().path("shard").asLong()).isEqualTo(1);
        assertThat(cutover.json().path("schema").asText()).isEqualTo(schema);
        assertThat(cutover.json().path("server").asText()).isEqualTo(fleet.serverKey());
        assertThat(cutover.json().path("tasks").asInt()).isEqualTo(1);
        // Asked again (the gate is open already), the text names the shard too.
        assertThat(cli(fleet, "cutover", "1", "--shard", "1").out()).startsWith("version 1 " + fleet.shardName(1) + ": ");
        assertThat(cli(fleet, "run").exit()).isZero();
        assertThat(columns(fleet, schema, "t")).containsExactly("id", "v", "z");
        assertThat(triggers(fleet, schema)).isZero();
    }

    @Test
    void createAndDropCompleteAtOnceAndTrashPurgeDropsOnlyOldEnoughTablesOfOurs() {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "trash", 2);
        fleet.registerAll();
        assertThat(cli(fleet, "version", "add", "--type", "pt-osc", "--table", "extra", "--command",
                "CREATE TABLE extra (id INT PRIMARY KEY)").exit()).isZero();
        Cli.Result other = cli(fleet, "version", "add", "--type", "pt-osc", "--table", "t", "--command",
                "DROP TABLE t_old");
        assertThat(other.exit()).as("an online DROP must name --table").isEqualTo(2);
        assertThat(other.err()).contains("DROP TABLE t (one table");
        assertThat(cli(fleet, "version", "add", "--type", "pt-osc", "--table", "t", "--command", "DROP TABLE t")
                .exit()).isZero();
        Cli.Result run = cli(fleet, "run");
        assertThat(run.exit()).as(run.all()).isZero();
        String pending = fleet.prefix + "_pending";
        for (String schema : fleet.schemas) {
            assertThat(tables(fleet, schema)).containsExactly("extra");
        }
        assertThat(tables(fleet, pending)).hasSize(2).allMatch(t -> t.endsWith("_t"));
        fleet.execute("CREATE TABLE `" + pending + "`.keepme (id INT)");

        assertThat(cli(fleet, "trash", "list", "--json").json().path("tables").size()).isEqualTo(3);
        Cli.Result young = cli(fleet, "trash", "purge");
        assertThat(young.exit()).as(young.all()).isZero();
        assertThat(tables(fleet, pending)).hasSize(3);
        Cli.Result purge = cli(fleet, "trash", "purge", "--older-than", "0s");
        assertThat(purge.exit()).as(purge.all()).isZero();
        assertThat(purge.out()).contains("2 tables dropped");
        assertThat(tables(fleet, pending)).containsExactly("keepme");
        assertThat(cli(fleet, "trash", "purge", "--older-than", "7x").exit()).isEqualTo(2);
    }

    static Cli.Result cli(TestFleet fleet, String... args) {
        return Cli.run(fleet.configFile, args);
    }

    static String cat(TestFleet fleet) {
        return "`" + fleet.prefix + "_catalog`";
    }

    static String phase(TestFleet fleet) {
        return fleet.column("SELECT phase FROM " + cat(fleet) + ".online").get(0);
    }

    static String shardState(TestFleet fleet) {
        return fleet.column("SELECT state FROM " + cat(fleet) + ".shards").get(0);
    }

    static List<String> tables(TestFleet fleet, String schema) {
        return fleet.shardColumn("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" + schema
                + "' ORDER BY TABLE_NAME");
    }

    static List<String> columns(TestFleet fleet, String schema, String table) {
        return fleet.shardColumn("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '" + schema
                + "' AND TABLE_NAME = '" + table + "' ORDER BY ORDINAL_POSITION");
    }

    static int triggers(TestFleet fleet, String schema) {
        return fleet.shardCount("SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '" + schema + "'");
    }

    static Map<Integer, String> contents(TestFleet fleet, String schema) throws SQLException {
        Map<Integer, String> out = new TreeMap<>();
        try (Connection c = fleet.connect(schema); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, v FROM big")) {
            while (rs.next()) {
                out.put(rs.getInt(1), rs.getString(2));
            }
        }
        return out;
    }

    /**
     * Inserts, updates and deletes rows of {@code big} at a steady rate on its own connection, and keeps its own
     * record of what the table must hold.
     */
    static final class Writer implements AutoCloseable {
        final Map<Integer, String> expected = new ConcurrentHashMap<>();
        final List<String> errors = new ArrayList<>();
        final AtomicInteger operations = new AtomicInteger();
        /** Statements a deadlock rolled back: pt-osc's chunk copy causes some; the binlog engine must cause none. */
        final AtomicInteger deadlocks = new AtomicInteger();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        Writer(TestFleet fleet, String schema) {
            for (int id = 1; id <= ROWS; id++) {
                expected.put(id, "row" + id);
            }
            thread = new Thread(() -> write(fleet, schema), "writer");
            thread.start();
        }

        private void write(TestFleet fleet, String schema) {
            Random random = new Random(42);
            try (Connection c = fleet.connect(schema);
                 PreparedStatement insert = c.prepareStatement("INSERT INTO big (k, v) VALUES (?, ?)",
                         Statement.RETURN_GENERATED_KEYS);
                 PreparedStatement update = c.prepareStatement("UPDATE big SET v = ? WHERE id = ?");
                 PreparedStatement delete = c.prepareStatement("DELETE FROM big WHERE id = ?")) {
                while (running.get()) {
                    int n = operations.incrementAndGet();
                    try {
                        switch (n % 3) {
                            case 0 -> {
                                String v = "ins" + n;
                                insert.setInt(1, n);
                                insert.setString(2, v);
                                insert.executeUpdate();
                                try (ResultSet keys = insert.getGeneratedKeys()) {
                                    keys.next();
                                    expected.put(keys.getInt(1), v);
                                }
                            }
                            case 1 -> {
                                int id = 1 + random.nextInt(ROWS);
                                String v = "upd" + n;
                                update.setString(1, v);
                                update.setInt(2, id);
                                if (update.executeUpdate() > 0) {
                                    expected.put(id, v);
                                }
                            }
                            default -> {
                                int id = 1 + random.nextInt(ROWS);
                                delete.setInt(1, id);
                                delete.executeUpdate();
                                expected.remove(id);
                            }
                        }
                    } catch (SQLException e) {
                        // A deadlock with pt-osc's chunk copy rolls the one statement back (the expected rows are
                        // only changed after a success), as an application would see it and retry; not an error.
                        if (e.getErrorCode() == 1213) {
                            deadlocks.incrementAndGet();
                        } else {
                            errors.add(e.getMessage());
                        }
                    }
                    Thread.sleep(2);
                }
            } catch (SQLException | InterruptedException e) {
                errors.add(e.toString());
            }
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join();
        }

        @Override
        public void close() throws InterruptedException {
            stop();
        }
    }
}
