package io.shardschema.schema;

import com.fasterxml.jackson.databind.JsonNode;
import io.shardschema.testing.Cli;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The guard before a change, the check after it, and what builds on the expected schema: diff and baseline. */
class GuardAndVerifyTest {

    @Test
    void guardRefusesACopyingAlterOnABigTableAcceptsAnInstantOneAndForceOverrides() {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "guard", 2);
        fleet.set("guardCopyRows", "1000");
        fleet.registerAll();
        String big = fleet.schemas.get(1);
        fleet.execute("INSERT INTO `" + big + "`.t SELECT seq, 'x' FROM `" + big + "`.seq_10_to_5000");
        fleet.execute("ANALYZE TABLE `" + big + "`.t");

        fleet.addVersion("t", "ADD COLUMN c INT");
        Cli.Result instant = Cli.run(fleet.configFile, "run");
        assertThat(instant.exit()).as("an INSTANT change passes on any size: " + instant.all()).isZero();

        Cli.Result add = Cli.run(fleet.configFile, "version", "add", "--json", "--table", "t", "--command", "MODIFY id BIGINT");
        assertThat(add.exit()).as(add.all()).isZero();
        assertThat(add.json().path("algorithm").asText()).isEqualTo("COPY");
        assertThat(add.err()).contains("unless added with --force");
        Cli.Result copy = Cli.run(fleet.configFile, "run");
        assertThat(copy.exit()).as(copy.all()).isEqualTo(4);
        String cat = "`" + fleet.prefix + "_catalog`";
        assertThat(fleet.column("SELECT CONCAT(shardId, ':', state, ':', version) FROM " + cat + ".shards ORDER BY shardId"))
                .containsExactly("1:ready:2", "2:failed:1");
        assertThat(fleet.column("SELECT message FROM " + cat + ".log WHERE shardId = 2 AND version = 2"))
                .singleElement().asString().contains("refused").contains("guardCopyRows=1000").contains("pt-osc");
        assertThat(fleet.column("SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '" + big
                + "' AND TABLE_NAME = 't' AND COLUMN_NAME = 'id'")).as("the big table was not touched").containsExactly("int");
        Cli.Result status = Cli.run(fleet.configFile, "status");
        assertThat(status.out()).contains("refused (by the guard").contains(fleet.shardName(2) + " at version 2");
        JsonNode refused = Cli.run(fleet.configFile, "status", "--json").json().path("refused");
        assertThat(refused).hasSize(1);
        assertThat(refused.get(0).path("shardId").asLong()).isEqualTo(2);
        assertThat(refused.get(0).path("schemaName").asText()).isEqualTo(big);
        assertThat(refused.get(0).path("schema").asText()).isEqualTo(big);
        assertThat(refused.get(0).path("server").asText()).isEqualTo(fleet.serverKey());
        assertThat(refused.get(0).path("version").asInt()).isEqualTo(2);

        // The same change added with --force runs on the big table too.
        TestFleet forced = TestFleet.create(TestServers.shared(), "force", 1);
        forced.set("guardCopyRows", "1000");
        forced.registerAll();
        forced.execute("INSERT INTO `" + forced.schemas.get(0) + "`.t SELECT seq, 'x' FROM `" + forced.schemas.get(0) + "`.seq_10_to_5000");
        forced.execute("ANALYZE TABLE `" + forced.schemas.get(0) + "`.t");
        assertThat(Cli.run(forced.configFile, "version", "add", "--force", "--table", "t", "--command",
                "MODIFY id BIGINT").exit()).isZero();
        Cli.Result run = Cli.run(forced.configFile, "run");
        assertThat(run.exit()).as(run.all()).isZero();
        assertThat(forced.column("SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '"
                + forced.schemas.get(0) + "' AND TABLE_NAME = 't' AND COLUMN_NAME = 'id'")).containsExactly("bigint");
    }

    @Test
    void aTableAlteredByHandIsCaughtAfterApplyAndBaselineNeedsTheExpectedSchema() {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "verify", 3);
        fleet.registerAll();
        String drifted = fleet.schemas.get(2);
        fleet.execute("ALTER TABLE `" + drifted + "`.t ADD COLUMN extra INT");

        Cli.Result add = Cli.run(fleet.configFile, "version", "add", "--json", "--table", "t", "--command", "ADD COLUMN c INT");
        assertThat(add.exit()).as(add.all()).isZero();
        String expected = add.json().path("expectedFingerprint").asText();
        assertThat(expected).hasSize(64);
        Cli.Result run = Cli.run(fleet.configFile, "run");
        assertThat(run.exit()).as(run.all()).isEqualTo(3);

        String cat = "`" + fleet.prefix + "_catalog`";
        assertThat(fleet.column("SELECT CONCAT(shardId, ':', state, ':', version) FROM " + cat + ".shards ORDER BY shardId"))
                .containsExactly("1:ready:1", "2:ready:1", "3:failed:0");
        // Every run records the table's fingerprint; the two good shards have the expected one.
        assertThat(fleet.column("SELECT fingerprint FROM " + cat + ".log WHERE state = 'applied' ORDER BY shardId"))
                .containsExactly(expected, expected);
        Cli.Result log = Cli.run(fleet.configFile, "log", "--shard", "3", "--json");
        JsonNode last = log.json().path("runs").get(0);
        assertThat(last.path("state").asText()).isEqualTo("drifted");
        assertThat(last.path("err").asText()).contains("+  `extra` int(11) DEFAULT NULL,");
        // Listed as drifted, and among the failed shards with how its run ended.
        assertThat(Cli.run(fleet.configFile, "status").out())
                .contains("drifted (the table differs").contains(fleet.shardName(3) + " at version 1")
                .contains("runs it again): " + fleet.shardName(3) + " at version 1 (drifted)");
        JsonNode driftedJson = Cli.run(fleet.configFile, "status", "--json").json().path("drifted");
        assertThat(driftedJson).hasSize(1);
        assertThat(driftedJson.get(0).path("shardId").asLong()).isEqualTo(3);
        assertThat(driftedJson.get(0).path("schema").asText()).isEqualTo(drifted);
        assertThat(driftedJson.get(0).path("server").asText()).isEqualTo(fleet.serverKey());

        Cli.Result same = Cli.run(fleet.configFile, "diff", "--shard", "1", "--version", "1");
        assertThat(same.exit()).as(same.all()).isZero();
        Cli.Result differs = Cli.run(fleet.configFile, "diff", "--shard", "3", "--version", "1");
        assertThat(differs.exit()).isEqualTo(3);
        assertThat(differs.out()).contains("--- expected at version 1").contains("+  `extra` int(11) DEFAULT NULL,");

        Cli.Result refused = Cli.run(fleet.configFile, "baseline", "--shard", "3", "--version", "1");
        assertThat(refused.exit()).isEqualTo(4);
        assertThat(refused.err()).contains("+  `extra` int(11) DEFAULT NULL,").contains("nothing was changed");
        fleet.execute("ALTER TABLE `" + drifted + "`.t DROP COLUMN extra");
        Cli.Result baseline = Cli.run(fleet.configFile, "baseline", "--shard", "3", "--version", "1");
        assertThat(baseline.exit()).as(baseline.all()).isZero();
        assertThat(baseline.out()).startsWith(fleet.shardName(3) + " is now at version 1");
        assertThat(fleet.column("SELECT CONCAT(state, ':', version) FROM " + cat + ".shards WHERE shardId = 3"))
                .containsExactly("ready:1");
        assertThat(fleet.column("SELECT state FROM " + cat + ".log WHERE shardId = 3 ORDER BY run DESC LIMIT 1"))
                .containsExactly("baselined");
        assertThat(Cli.run(fleet.configFile, "baseline", "--shard", "3", "--version", "9").exit()).isEqualTo(2);
    }
}
