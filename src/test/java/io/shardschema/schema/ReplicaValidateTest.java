package io.shardschema.schema;

import com.fasterxml.jackson.databind.JsonNode;
import io.shardschema.catalog.CatalogLayout;
import io.shardschema.config.DataSources;
import io.shardschema.embedded.MariaDbServer;
import io.shardschema.testing.Cli;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code schema validate-shard} against a real replica: a primary with a binary log and a replica replicating from
 * it. The shards (and their catalog) live on the primary; the replica receives them by replication.
 */
class ReplicaValidateTest {
    private static final String SECRET = "Replica-secret-93";
    private static MariaDbServer primary;
    private static MariaDbServer replica;

    @BeforeAll
    static void startReplication() throws SQLException {
        primary = TestServers.fresh("primary", List.of("--log-bin=primary-bin", "--server-id=1", "--binlog-format=ROW"));
        replica = TestServers.fresh("replica", List.of("--server-id=2"));
        String file;
        long position;
        try (Connection c = DataSources.connect(primary.rootDsn(null)); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SHOW MASTER STATUS")) {
            assertThat(rs.next()).as("the primary writes a binary log").isTrue();
            file = rs.getString(1);
            position = rs.getLong(2);
        }
        try (Connection c = DataSources.connect(replica.rootDsn(null)); Statement s = c.createStatement()) {
            // CHANGE MASTER takes no bound parameters; every value here comes from the test's own servers.
            // MASTER_SSL = 0: MariaDB 11 replicas demand TLS by default, and test servers run without it.
            s.execute("CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = " + primary.port()
                    + ", MASTER_USER = 'root', MASTER_PASSWORD = '', MASTER_SSL = 0, MASTER_LOG_FILE = '" + file
                    + "', MASTER_LOG_POS = " + position + ", MASTER_USE_GTID = no");
            s.execute("START SLAVE");
        }
    }

    @AfterAll
    static void stopServers() {
        if (replica != null) {
            replica.stop();
        }
        if (primary != null) {
            primary.stop();
        }
    }

    @Test
    void replicaMatchesUntilItDrifts() throws Exception {
        TestFleet fleet = replicatedFleet("rsame", 1);
        String schema = fleet.schemas.get(0);
        long id = addShard(fleet, schema, replica.rootDsn(null).toString());

        Cli.Result same = Cli.run(fleet.configFile, "schema", "validate-shard", String.valueOf(id), "--json");
        assertThat(same.exit()).as(same.all()).isZero();
        JsonNode report = same.json();
        JsonNode r = report.path("replicas").get(0);
        assertThat(r.path("dsn").asText()).isEqualTo("root@tcp(127.0.0.1:" + replica.port() + ")/");
        assertThat(r.path("state").asText()).isEqualTo("same");
        assertThat(report.path("primaryFingerprint").asText()).hasSize(64);
        assertThat(report.path("shard").asLong()).isEqualTo(id);
        assertThat(report.path("schema").asText()).isEqualTo(schema);
        assertThat(report.path("server").asText()).isEqualTo(primary.rootDsn(null).serverKey());
        assertThat(r.path("fingerprint").asText()).isEqualTo(report.path("primaryFingerprint").asText());
        Cli.Result text = Cli.run(fleet.configFile, "schema", "validate-shard", String.valueOf(id));
        assertThat(text.exit()).as(text.all()).isZero();
        assertThat(text.out()).startsWith("shard " + id + " (" + schema + "@" + primary.rootDsn(null).serverKey() + ") on ")
                .contains("1 of 1 replicas match the primary");

        // A change made on the replica only: replication does not carry it back to the primary.
        try (Connection c = DataSources.connect(replica.rootDsn(schema)); Statement s = c.createStatement()) {
            s.execute("ALTER TABLE t ADD COLUMN extra INT");
        }
        Cli.Result drift = Cli.run(fleet.configFile, "schema", "validate-shard", String.valueOf(id), "--json");
        assertThat(drift.exit()).as(drift.all()).isEqualTo(3);
        JsonNode d = drift.json().path("replicas").get(0);
        assertThat(d.path("state").asText()).isEqualTo("different");
        assertThat(d.path("fingerprint").asText()).isNotEqualTo(drift.json().path("primaryFingerprint").asText());
        assertThat(d.path("diff").asText()).contains("--- primary").contains("+  `extra` int(11) DEFAULT NULL,");
        assertThat(Cli.run(fleet.configFile, "schema", "validate-shard", String.valueOf(id)).out())
                .contains("replica root@tcp(127.0.0.1:" + replica.port() + ")/: different")
                .contains("0 of 1 replicas match the primary");
    }

    @Test
    void passwordIsNotStoredAndAnUnreachableReplicaIsReported() throws Exception {
        TestFleet fleet = replicatedFleet("rdead", 2);
        String schema = fleet.schemas.get(0);
        int deadPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            deadPort = socket.getLocalPort();
        }
        String server = primary.rootDsn(null).toString();
        Cli.Result itself = Cli.run(fleet.configFile, "shard", "add", "--schema", schema, "--dsn", server, "--replica", server);
        assertThat(itself.exit()).as(itself.all()).isEqualTo(2);
        assertThat(itself.err()).contains("is the shard's own server");
        Cli.Result otherSchema = Cli.run(fleet.configFile, "shard", "add", "--schema", schema, "--dsn", server,
                "--replica", replica.rootDsn("other").toString());
        assertThat(otherSchema.exit()).as(otherSchema.all()).isEqualTo(2);
        assertThat(otherSchema.err()).contains("names schema other");

        Cli.Result add = Cli.run(fleet.configFile, "shard", "add", "--schema", schema, "--dsn",
                server, "--replica", "root:" + SECRET + "@tcp(127.0.0.1:" + replica.port() + ")/",
                "--replica", "root@tcp(127.0.0.1:" + deadPort + ")/", "--json");
        assertThat(add.exit()).as(add.all()).isZero();
        assertThat(add.err()).contains("is not stored").doesNotContain(SECRET);
        assertThat(add.out()).doesNotContain(SECRET);
        long id = add.json().path("shardId").asLong();
        long bare = addShard(fleet, fleet.schemas.get(1));

        Cli.Result list = Cli.run(fleet.configFile, "shard", "list", "--json");
        assertThat(list.exit()).as(list.all()).isZero();
        assertThat(list.out()).doesNotContain(SECRET);
        JsonNode listed = list.json().path("shards").get(0);
        assertThat(listed.path("id").asLong()).isEqualTo(id);
        assertThat(listed.path("replicas")).extracting(JsonNode::asText).containsExactly(
                "root@tcp(127.0.0.1:" + replica.port() + ")/", "root@tcp(127.0.0.1:" + deadPort + ")/");
        assertThat(list.json().path("shards").get(1).path("replicas")).isEmpty();
        assertThat(Cli.run(fleet.configFile, "shard", "list").out())
                .contains("replica root@tcp(127.0.0.1:" + deadPort + ")/");
        String replicas = "`" + fleet.prefix + "_catalog`.replicas";
        assertThat(fleet.column("SELECT replicaDSN FROM " + replicas)).hasSize(2).noneMatch(dsn -> dsn.contains(SECRET));

        Cli.Result validate = Cli.run(fleet.configFile, "schema", "validate-shard", String.valueOf(id), "--json");
        assertThat(validate.exit()).as(validate.all()).isEqualTo(3);
        JsonNode live = validate.json().path("replicas").get(0);
        JsonNode dead = validate.json().path("replicas").get(1);
        assertThat(live.path("state").asText()).isEqualTo("same");
        assertThat(dead.path("state").asText()).isEqualTo("unreadable");
        assertThat(dead.path("dsn").asText()).contains(":" + deadPort + ")");
        assertThat(dead.path("error").asText()).isNotBlank();
        assertThat(dead.path("fingerprint").isNull()).isTrue();

        Cli.Result noReplicas = Cli.run(fleet.configFile, "schema", "validate-shard", String.valueOf(bare));
        assertThat(noReplicas.exit()).as(noReplicas.all()).isEqualTo(2);
        assertThat(noReplicas.err()).contains("has no replicas").contains("--replica");
        assertThat(Cli.run(fleet.configFile, "schema", "validate-shard", "9999").exit()).isEqualTo(2);

        assertThat(Cli.run(fleet.configFile, "shard", "remove", String.valueOf(id)).exit()).isZero();
        assertThat(fleet.count("SELECT COUNT(*) FROM " + replicas)).isZero();
    }

    @Test
    void initUpgradesALayout4CatalogAcrossTheMissingStep5() {
        TestFleet fleet = TestFleet.create(primary, "rlayout", 0);
        String cat = "`" + fleet.prefix + "_catalog`";
        fleet.execute("DROP TABLE " + cat + ".replicas");
        fleet.execute("UPDATE " + cat + ".shardschema_layout SET layout = 4");

        Cli.Result init = Cli.run(fleet.configFile, "init");
        assertThat(init.exit()).as(init.all()).isZero();
        assertThat(init.out()).contains("from layout 4 to " + CatalogLayout.CURRENT).contains("layout 6: table replicas");
        assertThat(fleet.count("SELECT layout FROM " + cat + ".shardschema_layout")).isEqualTo(CatalogLayout.CURRENT);
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".replicas")).isZero();
    }

    /** A fleet on the primary whose shard schemas have reached the replica. */
    private static TestFleet replicatedFleet(String name, int shards) {
        TestFleet fleet = TestFleet.create(primary, name, shards);
        try {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                    .until(() -> replicaTables(fleet) == shards);
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("the replica did not receive the shards; its status: " + replicaStatus(), e);
        }
        return fleet;
    }

    private static String replicaStatus() {
        try (Connection c = DataSources.connect(replica.rootDsn(null)); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SHOW SLAVE STATUS")) {
            StringBuilder sb = new StringBuilder();
            while (rs.next()) {
                for (String column : List.of("Slave_IO_Running", "Slave_SQL_Running", "Last_IO_Error", "Last_SQL_Error")) {
                    sb.append(column).append('=').append(rs.getString(column)).append("; ");
                }
            }
            return sb.isEmpty() ? "not replicating" : sb.toString();
        } catch (SQLException e) {
            return e.getMessage();
        }
    }

    private static int replicaTables(TestFleet fleet) throws SQLException {
        try (Connection c = DataSources.connect(replica.rootDsn(null)); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_NAME = 't'"
                     + " AND TABLE_SCHEMA LIKE '" + fleet.prefix + "\\_s%'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static long addShard(TestFleet fleet, String schema, String... replicas) {
        List<String> args = new java.util.ArrayList<>(List.of("shard", "add", "--schema", schema, "--dsn",
                primary.rootDsn(null).toString()));
        for (String r : replicas) {
            args.add("--replica");
            args.add(r);
        }
        Cli.Result add = Cli.run(fleet.configFile, args.toArray(String[]::new));
        assertThat(add.exit()).as(add.all()).isZero();
        return Long.parseLong(add.out().strip());
    }
}
