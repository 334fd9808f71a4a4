package io.shardschema.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.shardschema.testing.Cli;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The verbs end to end: registration, listing, files, help, overrides and the stop file. */
class CommandsTest {

    @Test
    void registersListsAndRemovesShardsAndVersions() throws IOException {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "cmds", 3);
        String server = fleet.server.rootDsn(null).toString();
        Cli.Result add = Cli.run(fleet.configFile, "shard", "add", "--schema", fleet.schemas.get(0), "--dsn", server);
        assertThat(add.exit()).as(add.all()).isZero();
        long id = Long.parseLong(add.out().strip());
        Cli.Result duplicate = Cli.run(fleet.configFile, "shard", "add", "--schema", fleet.schemas.get(0), "--dsn", server);
        assertThat(duplicate.exit()).isEqualTo(2);
        assertThat(duplicate.err()).contains("already registered as shard " + id);
        Cli.Result discover = Cli.run(fleet.configFile, "shard", "discover", "--dsn", server, "--like", fleet.prefix + "\\_s%", "--json");
        assertThat(discover.json().get("registered").asInt()).isEqualTo(2);
        assertThat(discover.json().get("alreadyRegistered").asInt()).isEqualTo(1);
        assertThat(Cli.run(fleet.configFile, "shard", "list", "--json").json().get("shards")).hasSize(3);

        Path file = Files.writeString(fleet.dir.resolve("v1.sql"), "ADD COLUMN from_file INT;\n");
        Cli.Result v1 = Cli.run(fleet.configFile, "version", "add", "--table", "t", "--file", file.toString());
        assertThat(v1.out().strip()).isEqualTo("1");
        Cli.Result list = Cli.run(fleet.configFile, "version", "list");
        assertThat(list.out()).contains("ALTER TABLE `t` ADD COLUMN from_file INT").contains("1 versions");

        Cli.Result removed = Cli.run(fleet.configFile, "shard", "remove", String.valueOf(id));
        assertThat(removed.exit()).isZero();
        assertThat(Cli.run(fleet.configFile, "shard", "list", "--json").json().get("shards")).hasSize(2);
        assertThat(Cli.run(fleet.configFile, "run").exit()).isZero();
        assertThat(fleet.count("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA LIKE '" + fleet.prefix
                + "\\_s%' AND COLUMN_NAME = 'from_file'")).isEqualTo(2);
    }

    @Test
    void everyCommandExplainsItselfAndUsageErrorsExitTwo() {
        for (String[] cmd : new String[][]{{"init"}, {"shard", "add"}, {"shard", "discover"}, {"shard", "list"},
                {"shard", "remove"}, {"version", "add"}, {"version", "list"}, {"run"}, {"status"}, {"log"}, {"retry"},
                {"throttle"}, {"serve"}, {"demo"}}) {
            String[] args = java.util.Arrays.copyOf(cmd, cmd.length + 1);
            args[cmd.length] = "--help";
            Cli.Result help = Cli.run(null, args);
            assertThat(help.exit()).as(String.join(" ", cmd)).isZero();
            assertThat(help.out()).contains("Usage: shardschema " + String.join(" ", cmd));
        }
        assertThat(Cli.run(null, "frobnicate").exit()).isEqualTo(2);
        assertThat(Cli.run(null, "run", "--workers", "x").exit()).isEqualTo(2);
        assertThat(Cli.run(null, "throttle", "sideways").exit()).isEqualTo(2);
        assertThat(Cli.run(null, "serve", "--port", "70000").exit()).isEqualTo(2);
        assertThat(Cli.run(null, "serve", "--workers", "2").err()).contains("--workers goes with --run");
    }

    @Test
    void overridesRedirectEveryShardConnection() {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "ovr", 2);
        // Registered as if on production hosts that do not exist here; the overrides point at the test server.
        for (String s : fleet.schemas) {
            Cli.Result add = Cli.run(fleet.configFile, "shard", "add", "--no-check", "--schema", s, "--dsn",
                    "root@tcp(db-prod-1.invalid:3306)/");
            assertThat(add.exit()).as(add.all()).isZero();
        }
        Cli.Result add = Cli.run(fleet.configFile, "version", "add", "--table", "t", "--command", "ADD COLUMN redirected INT");
        assertThat(add.exit()).as("the preflight cannot reach the shards").isEqualTo(1);
        assertThat(add.err()).contains("db-prod-1.invalid").contains("--no-preflight");
        assertThat(Cli.run(fleet.configFile, "version", "add", "--no-preflight", "--table", "t", "--command",
                "ADD COLUMN redirected INT").exit()).isZero();
        fleet.set("maxRuns", "1");
        assertThat(Cli.run(fleet.configFile, "run").exit()).as("without overrides the hosts are unreachable").isEqualTo(3);

        fleet.set("hostOverride", "127.0.0.1");
        fleet.set("portOverride", String.valueOf(fleet.server.port()));
        assertThat(Cli.run(fleet.configFile, "retry", "--all").exit()).isZero();
        Cli.Result run = Cli.run(fleet.configFile, "run");
        assertThat(run.exit()).as(run.all()).isZero();
        assertThat(fleet.count("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA LIKE '" + fleet.prefix
                + "\\_s%' AND COLUMN_NAME = 'redirected'")).isEqualTo(2);

        // databaseOverride sends every shard's change to one schema: the first task lands there, the second fails.
        String staging = fleet.schemas.get(0);
        fleet.set("databaseOverride", staging);
        fleet.addVersion("t", "ADD COLUMN only_once INT");
        Cli.Result staged = Cli.run(fleet.configFile, "run");
        assertThat(staged.exit()).isEqualTo(3);
        assertThat(fleet.count("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA LIKE '" + fleet.prefix
                + "\\_s%' AND COLUMN_NAME = 'only_once'")).isEqualTo(1);
    }

    @Test
    void stopFileKeepsRunnersFromStartingTasks() throws IOException {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "stop", 3);
        fleet.registerAll();
        fleet.addVersion("t", "ADD COLUMN s INT");
        Path stop = Path.of(fleet.settings.get("stopFile"));
        Files.createFile(stop);

        Cli.Result stopped = Cli.run(fleet.configFile, "run", "--json");
        assertThat(stopped.exit()).isZero();
        assertThat(stopped.json().at("/summary/stoppedByStopFile").asBoolean()).isTrue();
        assertThat(stopped.json().at("/summary/applied").asInt()).isZero();
        assertThat(Cli.run(fleet.configFile, "status").out()).contains("stop file present");

        Files.delete(stop);
        Cli.Result run = Cli.run(fleet.configFile, "run", "--json");
        assertThat(run.json().at("/summary/applied").asInt()).isEqualTo(3);
    }

    @Test
    void statusListsTwentyFailedAndWaitingShardsOfEachKindAndCountsTheRest() {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "lists", 0);
        String cat = "`" + fleet.prefix + "_catalog`";
        String key = fleet.serverKey();
        // The catalog as runs leave it: versions 1 and 3 (numbers may have gaps); shards 1-22 failed at version 1,
        // shard 1's last run failed after a drifted one, the others' last runs drifted; shard 23, at version 1,
        // waits at the cut-over gate of version 3.
        fleet.execute("INSERT INTO " + cat + ".versions (version, command, tableName) VALUES"
                + " (1, 'ADD COLUMN c INT', 't'), (3, 'ADD COLUMN d INT', 't')");
        fleet.execute("INSERT INTO " + cat + ".shards (shardId, schemaName, shardDSN, serverKey, version, state)"
                + " SELECT seq, CONCAT('" + fleet.prefix + "_f', LPAD(seq, 2, '0')), 'root@tcp(" + key + ")/', '" + key
                + "', 0, 'failed' FROM " + cat + ".seq_1_to_22");
        fleet.execute("INSERT INTO " + cat + ".log (shardId, version, run, state) SELECT seq, 1, 1, 'drifted'"
                + " FROM " + cat + ".seq_1_to_22");
        fleet.execute("INSERT INTO " + cat + ".log (shardId, version, run, state) VALUES (1, 1, 2, 'failed')");
        fleet.execute("INSERT INTO " + cat + ".shards (shardId, schemaName, shardDSN, serverKey, version, state)"
                + " VALUES (23, '" + fleet.prefix + "_w23', 'root@tcp(" + key + ")/', '" + key + "', 1, 'waiting')");
        fleet.execute("INSERT INTO " + cat + ".log (shardId, version, run, state) VALUES (23, 3, 1, 'waiting')");
        fleet.execute("INSERT INTO " + cat + ".online (shardId, version, phase) VALUES (23, 3, 'awaiting cut-over')");

        List<String> failed = new ArrayList<>();
        List<String> drifted = new ArrayList<>();
        for (int i = 1; i <= 21; i++) {
            String name = String.format("shard %d (%s_f%02d@%s) at version 1", i, fleet.prefix, i, key);
            if (i <= 20) {
                failed.add(name + (i == 1 ? " (failed)" : " (drifted)"));
            }
            if (i >= 2) {
                drifted.add(name);
            }
        }
        Cli.Result status = Cli.run(fleet.configFile, "status");
        assertThat(status.exit()).as(status.all()).isZero();
        assertThat(status.out().lines().toList()).as(status.out())
                .contains("failed (all of them, drifted and refused ones included, with how the last run ended; `log`"
                        + " has the error, `retry` runs it again): " + String.join(", ", failed)
                        + " and 2 more (see `shard list --state failed`)")
                .contains("drifted (the table differs from the expected result; `log` has the diff): "
                        + String.join(", ", drifted) + " and 1 more (see `shard list --state failed`)")
                .contains("waiting at a gate (`approve V` or `cutover V` opens it): shard 23 (" + fleet.prefix + "_w23@"
                        + key + ") at version 3 (awaiting cut-over)")
                .noneMatch(l -> l.startsWith("refused"));

        JsonNode json = Cli.run(fleet.configFile, "status", "--json").json();
        assertThat(json.path("failedShards").asInt()).isEqualTo(22);
        assertThat(json.path("driftedShards").asInt()).isEqualTo(21);
        assertThat(json.path("refusedShards").asInt()).isZero();
        assertThat(json.path("waitingShards").asInt()).isEqualTo(1);
        assertThat(json.path("failed")).hasSize(20);
        assertThat(json.path("drifted")).hasSize(20);
        assertThat(json.path("refused")).isEmpty();
        JsonNode first = json.path("failed").get(0);
        assertThat(first.path("shardId").asLong()).isEqualTo(1);
        assertThat(first.path("schema").asText()).isEqualTo(fleet.prefix + "_f01");
        assertThat(first.path("server").asText()).isEqualTo(key);
        assertThat(first.path("version").asInt()).isEqualTo(1);
        assertThat(first.path("lastRunState").asText()).isEqualTo("failed");
        assertThat(json.path("failed").get(1).path("lastRunState").asText()).isEqualTo("drifted");
        assertThat(json.path("drifted").get(0).path("shardId").asLong()).isEqualTo(2);
        JsonNode waiting = json.path("waiting").get(0);
        assertThat(waiting.path("shardId").asLong()).isEqualTo(23);
        assertThat(waiting.path("version").asInt()).isEqualTo(3);
        assertThat(waiting.path("phase").asText()).isEqualTo("awaiting cut-over");
        // The lists' pointer holds: `shard list --state failed` has every one.
        assertThat(Cli.run(fleet.configFile, "shard", "list", "--state", "failed", "--json").json().path("total")
                .asInt()).isEqualTo(22);
    }
}
