package io.shardschema.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.shardschema.schema.Sql;
import io.shardschema.testing.Cli;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A schema name is only ever a name: it cannot rewrite the DSN a runner connects with (other server, other TLS
 * options), and a name that cannot be shown or stored safely is refused and reported, not registered.
 */
class SchemaNamesTest {

    private static void createSchema(TestFleet fleet, String name) {
        fleet.execute("CREATE DATABASE " + Sql.quote(name));
        fleet.execute("CREATE TABLE " + Sql.quote(name) + ".t (id INT PRIMARY KEY, v VARCHAR(20))");
    }

    private static String cat(TestFleet fleet) {
        return Sql.quote(fleet.prefix + "_catalog");
    }

    @Test
    void discoveredNamesCannotRewriteTheDsnAndBadOnesAreReported() {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "names", 1);
        String p = fleet.prefix;
        // Port 1: a name that redirected the connection would make the run fail there.
        List<String> good = List.of(fleet.schemas.get(0), p + "_x?sslMode=disable&z=", p + "_hx@tcp(127.0.0.1:1)/y");
        good.stream().skip(1).forEach(name -> createSchema(fleet, name));
        createSchema(fleet, p + "_esc\u001b[31m");
        createSchema(fleet, p + "_rlo\u202egpj.exe");
        String server = fleet.server.rootDsn(null).toString();

        Cli.Result discover = Cli.run(fleet.configFile, "shard", "discover", "--dsn", server, "--like", p + "\\_%");
        assertThat(discover.exit()).as(discover.all()).isEqualTo(3);
        assertThat(discover.out()).contains("registered 3 shards").contains("5 schemas matched").contains("2 refused")
                .contains("refused schema '" + p + "_esc\\u001B[31m': it holds a control or formatting character")
                .contains("refused schema '" + p + "_rlo\\u202Egpj.exe'")
                .doesNotContain("\u001b").doesNotContain("\u202e");
        Cli.Result again = Cli.run(fleet.configFile, "shard", "discover", "--dsn", server, "--like", p + "\\_%", "--json");
        assertThat(again.out()).doesNotContain("\u001b").doesNotContain("\u202e");
        JsonNode refused = again.json().get("refused");
        assertThat(refused).hasSize(2);
        assertThat(refused.get(0).get("schema").asText()).isEqualTo(p + "_esc\\u001B[31m");
        assertThat(refused.get(0).get("reason").asText()).contains("control");
        assertThat(again.json().get("alreadyRegistered").asInt()).isEqualTo(3);

        // The catalog keeps the server alone; the schema is in schemaName.
        assertThat(fleet.column("SELECT DISTINCT shardDSN FROM " + cat(fleet) + ".shards")).containsExactly(server);
        assertThat(fleet.column("SELECT schemaName FROM " + cat(fleet) + ".shards ORDER BY shardId"))
                .containsExactlyInAnyOrderElementsOf(good);

        Cli.Result add = Cli.run(fleet.configFile, "shard", "add", "--schema", p + "_esc\u001b[31m", "--dsn", server);
        assertThat(add.exit()).isEqualTo(2);
        assertThat(add.err()).contains("invalid schema name").doesNotContain("\u001b");

        assertThat(Cli.run(fleet.configFile, "version", "add", "--table", "t", "--command", "ADD COLUMN c INT")
                .exit()).isZero();
        Cli.Result run = Cli.run(fleet.configFile, "run");
        assertThat(run.exit()).as(run.all()).isZero();
        for (String name : good) {
            assertThat(fleet.count("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '"
                    + name.replace("'", "''") + "' AND TABLE_NAME = 't' AND COLUMN_NAME = 'c'")).as(name).isEqualTo(1);
        }
    }

    @Test
    void aHostileNameFromAnOlderRowIsEscapedWhereverAReportNamesTheShard() {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "hostile", 0);
        String hostile = fleet.prefix + "_esc\u001b[31m\u202egpj";
        String serverKey = "127.0.0.1:" + fleet.server.port();
        // A row as an older tool could have written it (registration refuses such a name now), failed at version 0.
        fleet.execute("INSERT INTO " + cat(fleet) + ".shards (schemaName, shardDSN, serverKey, state) VALUES ('"
                + hostile + "', 'root@tcp(" + serverKey + ")/', '" + serverKey + "', 'failed')");
        String named = "shard 1 (" + fleet.prefix + "_esc\\u001B[31m\\u202Egpj@" + serverKey + ")";

        Cli.Result run = Cli.run(fleet.configFile, "run");
        assertThat(run.exit()).as(run.all()).isEqualTo(3);
        assertThat(run.out()).contains("1 shards are failed: " + named).doesNotContain("\u001b").doesNotContain("\u202e");
        Cli.Result status = Cli.run(fleet.configFile, "status");
        assertThat(status.out()).contains("runs it again): " + named + "\n").doesNotContain("\u001b").doesNotContain("\u202e");
        Cli.Result list = Cli.run(fleet.configFile, "shard", "list");
        assertThat(list.out()).contains(fleet.prefix + "_esc\\u001B[31m\\u202Egpj ").doesNotContain("\u001b")
                .doesNotContain("\u202e");
        assertThat(Cli.run(fleet.configFile, "shard", "list", "--json").json().at("/shards/0/schemaName").asText())
                .isEqualTo(hostile);
        Cli.Result retry = Cli.run(fleet.configFile, "retry", "--shard", "1");
        assertThat(retry.exit()).as(retry.all()).isZero();
        assertThat(retry.out()).isEqualTo("retrying " + named + "\n");
        // JSON carries the name itself (JSON escapes control characters its own way).
        fleet.execute("UPDATE " + cat(fleet) + ".shards SET state = 'failed'");
        JsonNode json = Cli.run(fleet.configFile, "retry", "--shard", "1", "--json").json().path("named").get(0);
        assertThat(json.path("schema").asText()).isEqualTo(hostile);
        assertThat(json.path("server").asText()).isEqualTo(serverKey);
    }

    @Test
    void nonAsciiNamesWorkInPreflightAndRollout() {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "nonascii", 0);
        String name = fleet.prefix + "_caf\u00e9_\u65e5\u672c";
        createSchema(fleet, name);
        Cli.Result discover = Cli.run(fleet.configFile, "shard", "discover", "--dsn",
                fleet.server.rootDsn(null).toString(), "--like", fleet.prefix + "\\_%");
        assertThat(discover.exit()).as(discover.all()).isZero();
        // Preflight (automatic in version add, and on its own) and the rollout.
        Cli.Result version = Cli.run(fleet.configFile, "version", "add", "--table", "t", "--command", "ADD COLUMN c INT");
        assertThat(version.exit()).as(version.all()).isZero();
        Cli.Result preflight = Cli.run(fleet.configFile, "preflight", "--version", "1");
        assertThat(preflight.exit()).as(preflight.all()).isZero();
        Cli.Result run = Cli.run(fleet.configFile, "run");
        assertThat(run.exit()).as(run.all()).isZero();
        assertThat(fleet.count("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '" + name
                + "' AND COLUMN_NAME = 'c'")).isEqualTo(1);
    }

    @Test
    void olderRowsWithTheSchemaInTheDsnWorkUnlessTheNameRewroteIt() {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "oldrows", 1);
        fleet.set("maxRuns", "1");
        String honest = fleet.schemas.get(0);
        String hostile = fleet.prefix + "_hx@tcp(127.0.0.1:1)/y";
        createSchema(fleet, hostile);
        String server = "root@tcp(127.0.0.1:" + fleet.server.port() + ")/";
        // Rows as earlier versions wrote them: the schema name pasted after the server's DSN.
        for (String name : List.of(honest, hostile)) {
            fleet.execute("INSERT INTO " + cat(fleet) + ".shards (schemaName, shardDSN, serverKey) VALUES ('" + name
                    + "', '" + server + name + "', '127.0.0.1:" + fleet.server.port() + "')");
        }
        assertThat(Cli.run(fleet.configFile, "version", "add", "--table", "t", "--command", "ADD COLUMN c INT",
                "--shard", "1").exit()).isZero();

        Cli.Result run = Cli.run(fleet.configFile, "run");
        assertThat(run.exit()).as(run.all()).isEqualTo(3);
        assertThat(fleet.column("SELECT state FROM " + cat(fleet) + ".shards ORDER BY shardId"))
                .containsExactly("ready", "failed");
        assertThat(fleet.column("SELECT err FROM " + cat(fleet) + ".log WHERE shardId = 2")).singleElement()
                .asString().contains("names another schema").contains("shard remove");
        assertThat(fleet.count("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '" + honest
                + "' AND COLUMN_NAME = 'c'")).isEqualTo(1);
    }
}
