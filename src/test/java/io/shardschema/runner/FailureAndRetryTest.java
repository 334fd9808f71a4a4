package io.shardschema.runner;

import com.fasterxml.jackson.databind.JsonNode;
import io.shardschema.testing.Cli;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class FailureAndRetryTest {

    @Test
    void failingShardsStopAtThePreviousVersionAndRetryFinishesThemAfterRepair() {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "fail", 20);
        fleet.set("maxRuns", "2");
        fleet.registerAll();
        // On 3 shards the table of version 2 exists already: CREATE TABLE fails there. (Not on shard 1, whose
        // tables are the preflight's starting point.)
        List<String> broken = fleet.schemas.subList(3, 6);
        for (String s : broken) {
            fleet.execute("CREATE TABLE `" + s + "`.extra (x INT)");
        }
        fleet.addVersion("t", "ADD COLUMN c1 INT");
        fleet.addVersion("extra", "CREATE TABLE extra (id INT PRIMARY KEY)");
        fleet.addVersion("extra", "ADD COLUMN n INT");

        Cli.Result run = Cli.run(fleet.configFile, "run");

        assertThat(run.exit()).as(run.all()).isEqualTo(3);
        // The summary names the failed shards (shards 4-6 hold schemas 4-6) by id and schema@server.
        assertThat(run.out()).contains("3 shards are failed: " + fleet.shardName(4) + ", " + fleet.shardName(5) + ", "
                + fleet.shardName(6) + ": see");
        Cli.Result summary = Cli.run(fleet.configFile, "run", "--json");
        assertThat(summary.json().path("failedShards").asInt()).as(summary.out()).isEqualTo(3);
        assertThat(summary.json().path("failed")).hasSize(3);
        for (int i = 0; i < 3; i++) {
            JsonNode failed = summary.json().path("failed").get(i);
            assertThat(failed.path("id").asLong()).isEqualTo(4 + i);
            assertThat(failed.path("schema").asText()).isEqualTo(broken.get(i));
            assertThat(failed.path("server").asText()).isEqualTo(fleet.serverKey());
        }
        String cat = "`" + fleet.prefix + "_catalog`";
        assertThat(fleet.column("SELECT schemaName FROM " + cat + ".shards WHERE state = 'failed' ORDER BY schemaName"))
                .containsExactlyElementsOf(broken);
        assertThat(fleet.column("SELECT DISTINCT version FROM " + cat + ".shards WHERE state = 'failed'")).containsExactly("1");
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".shards WHERE version = 3")).isEqualTo(17);
        // Two runs each (maxRuns = 2), both with the server's own error.
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE version = 2 AND state = 'failed'"
                + " AND err LIKE '%Table%extra%already exists%'")).isEqualTo(6);
        Cli.Result log = Cli.run(fleet.configFile, "log", "--shard", "4", "--version", "2");
        assertThat(log.out()).contains("ERROR 1050").contains("marked failed").contains(fleet.shardName(4) + " version 2 run 2: failed");
        JsonNode logRun = Cli.run(fleet.configFile, "log", "--shard", "4", "--version", "2", "--json").json().path("runs").get(0);
        assertThat(logRun.path("shardId").asLong()).isEqualTo(4);
        assertThat(logRun.path("state").asText()).isEqualTo("failed");
        assertThat(logRun.path("schema").asText()).isEqualTo(broken.get(0));
        assertThat(logRun.path("server").asText()).isEqualTo(fleet.serverKey());
        Cli.Result status = Cli.run(fleet.configFile, "status", "--json");
        assertThat(status.out()).contains("\"failed\" : 3").contains("\"blocked\" : 3");
        // status names them too, at the version that failed, with how the last run ended.
        assertThat(status.json().path("failedShards").asInt()).isEqualTo(3);
        assertThat(status.json().path("failed")).hasSize(3);
        for (int i = 0; i < 3; i++) {
            JsonNode failed = status.json().path("failed").get(i);
            assertThat(failed.path("shardId").asLong()).isEqualTo(4 + i);
            assertThat(failed.path("schema").asText()).isEqualTo(broken.get(i));
            assertThat(failed.path("server").asText()).isEqualTo(fleet.serverKey());
            assertThat(failed.path("version").asInt()).isEqualTo(2);
            assertThat(failed.path("lastRunState").asText()).isEqualTo("failed");
        }
        assertThat(status.json().path("drifted")).isEmpty();
        assertThat(status.json().path("waiting")).isEmpty();
        assertThat(Cli.run(fleet.configFile, "status").out()).contains("\nfailed (all of them, drifted and refused ones"
                + " included, with how the last run ended; `log` has the error, `retry` runs it again): "
                + fleet.shardName(4) + " at version 2 (failed), " + fleet.shardName(5) + " at version 2 (failed), "
                + fleet.shardName(6) + " at version 2 (failed)\n");

        // Repair, retry, run: the failed shards finish, nothing else is touched.
        for (String s : broken) {
            fleet.execute("DROP TABLE `" + s + "`.extra");
        }
        Cli.Result retryOne = Cli.run(fleet.configFile, "retry", "--shard", "4", "--json");
        assertThat(retryOne.exit()).as(retryOne.all()).isZero();
        assertThat(retryOne.json().path("retried")).hasSize(1);
        assertThat(retryOne.json().path("retried").get(0).asLong()).isEqualTo(4);
        JsonNode retried = retryOne.json().path("named").get(0);
        assertThat(retried.path("id").asLong()).isEqualTo(4);
        assertThat(retried.path("schema").asText()).isEqualTo(broken.get(0));
        assertThat(retried.path("server").asText()).isEqualTo(fleet.serverKey());
        Cli.Result retry = Cli.run(fleet.configFile, "retry", "--all");
        assertThat(retry.exit()).as(retry.all()).isZero();
        assertThat(retry.out()).contains("retrying " + fleet.shardName(5) + ", " + fleet.shardName(6));
        Cli.Result again = Cli.run(fleet.configFile, "run", "--json");
        assertThat(again.exit()).as(again.all()).isZero();
        assertThat(again.out()).contains("\"applied\" : 6");
        assertThat(fleet.column("SELECT DISTINCT version FROM " + cat + ".shards")).containsExactly("3");
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE state = 'applied'")).isEqualTo(60);
    }

    @Test
    void validationMismatchFailsTheRunAndTheVersionStaysUnbumped() {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "valid", 3);
        fleet.set("maxRuns", "1");
        fleet.registerAll();
        Cli.Result add = Cli.run(fleet.configFile, "version", "add", "--table", "t", "--command", "ADD COLUMN z INT",
                "--validate-query", "SELECT COUNT(*) FROM t", "--expect", "4");
        assertThat(add.exit()).as(add.all()).isZero();

        Cli.Result run = Cli.run(fleet.configFile, "run");

        assertThat(run.exit()).isEqualTo(3);
        String cat = "`" + fleet.prefix + "_catalog`";
        assertThat(fleet.column("SELECT DISTINCT version FROM " + cat + ".shards")).containsExactly("0");
        assertThat(fleet.column("SELECT DISTINCT err FROM " + cat + ".log")).singleElement().asString()
                .contains("returned '3', expected '4'");

        // Make the answer right and retry: the change already landed, so it is recorded, not re-applied.
        for (String s : fleet.schemas) {
            fleet.execute("INSERT INTO `" + s + "`.t VALUES (4, 'd', NULL)");
        }
        assertThat(Cli.run(fleet.configFile, "retry", "--all").exit()).isZero();
        Cli.Result again = Cli.run(fleet.configFile, "run", "--json");
        assertThat(again.exit()).as(again.all()).isZero();
        assertThat(again.out()).contains("\"alreadyApplied\" : 3");
        assertThat(fleet.column("SELECT DISTINCT version FROM " + cat + ".shards")).containsExactly("1");
    }
}
