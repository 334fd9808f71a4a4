package io.shardschema.cli;

import io.shardschema.testing.Cli;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

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
}
