package io.shardschema.cli;

import io.shardschema.testing.Cli;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** One schema of one server is one shard, however the server is spelled (localhost, 127.0.0.1). */
class ServerIdentityTest {

    @Test
    void aSchemaCannotBeRegisteredTwiceThroughAnotherSpellingOfItsServer() {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "ident", 3);
        String byAddress = "root@tcp(127.0.0.1:" + fleet.server.port() + ")/";
        String byName = "root@tcp(localhost:" + fleet.server.port() + ")/";
        String cat = "`" + fleet.prefix + "_catalog`";

        assertThat(Cli.run(fleet.configFile, "shard", "add", "--schema", fleet.schemas.get(0), "--dsn", byAddress)
                .exit()).isZero();
        Cli.Result again = Cli.run(fleet.configFile, "shard", "add", "--schema", fleet.schemas.get(0), "--dsn", byName);
        assertThat(again.exit()).as(again.all()).isEqualTo(2);
        assertThat(again.err()).contains("already registered as shard 1 (on 127.0.0.1:" + fleet.server.port()
                + ", the same server");

        // A row that was registered without a check has no identity yet; a discover of its server gives it one.
        assertThat(Cli.run(fleet.configFile, "shard", "add", "--no-check", "--schema", fleet.schemas.get(2), "--dsn",
                byAddress).exit()).isZero();
        Cli.Result discover = Cli.run(fleet.configFile, "shard", "discover", "--dsn", byAddress, "--like",
                fleet.prefix + "\\_s%", "--json");
        assertThat(discover.json().get("registered").asInt()).isEqualTo(1);
        Cli.Result throughName = Cli.run(fleet.configFile, "shard", "discover", "--dsn", byName, "--like",
                fleet.prefix + "\\_s%", "--json");
        assertThat(throughName.exit()).as(throughName.all()).isZero();
        assertThat(throughName.json().get("registered").asInt()).isZero();
        assertThat(throughName.json().get("alreadyRegistered").asInt()).isEqualTo(3);
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".shards")).isEqualTo(3);
        assertThat(fleet.count("SELECT COUNT(DISTINCT serverIdentity) FROM " + cat + ".shards")).isEqualTo(1);

        fleet.addVersion("t", "ADD COLUMN once INT");
        Cli.Result run = Cli.run(fleet.configFile, "run");
        assertThat(run.exit()).as(run.all()).isZero();
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE state = 'applied'")).isEqualTo(3);
    }

    @Test
    void discoverNeverRegistersShardSchemasOwnSchemas() {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "own", 1);
        String scratch = "_ss_scratch_1_" + fleet.prefix;
        fleet.execute("CREATE DATABASE `" + fleet.prefix + "_pending`");
        fleet.execute("CREATE DATABASE `" + scratch + "`");
        try {
            // The catalog's server spelled another way than the catalog's DSN spells it.
            Cli.Result discover = Cli.run(fleet.configFile, "shard", "discover", "--dsn",
                    "root@tcp(localhost:" + fleet.server.port() + ")/", "--like", fleet.prefix + "%", "--json");
            Cli.Result scratches = Cli.run(fleet.configFile, "shard", "discover", "--dsn",
                    "root@tcp(localhost:" + fleet.server.port() + ")/", "--like", scratch, "--json");

            assertThat(discover.exit()).as(discover.all()).isZero();
            assertThat(scratches.exit()).as(scratches.all()).isZero();
            assertThat(fleet.column("SELECT schemaName FROM `" + fleet.prefix + "_catalog`.shards"))
                    .containsExactly(fleet.schemas.get(0));
        } finally {
            fleet.execute("DROP DATABASE `" + scratch + "`");
        }
    }
}
