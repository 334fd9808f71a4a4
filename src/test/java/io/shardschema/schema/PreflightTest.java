package io.shardschema.schema;

import com.fasterxml.jackson.databind.JsonNode;
import io.shardschema.testing.Cli;
import io.shardschema.testing.RunnerProcess;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/** Preflight on a scratch copy of a shard's tables: good, failing and no-op changes; nothing left behind. */
class PreflightTest {

    @Test
    void goodFailingAndNoOpChangesAndNoScratchSchemaLeft() {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "pre", 1);
        fleet.registerAll();
        // A scratch schema whose session is gone: a killed preflight left it.
        String leftover = Preflight.SCRATCH_PREFIX + Instant.now().getEpochSecond() + "_999999";
        fleet.execute("CREATE DATABASE `" + leftover + "`");

        JsonNode add = preflight(fleet, 0, "--table", "t", "--command", "ADD COLUMN c INT");
        assertThat(add.path("ok").asBoolean()).isTrue();
        assertThat(add.path("algorithm").asText()).isEqualTo("INSTANT");
        assertThat(add.path("diff").asText()).contains("+  `c` int(11) DEFAULT NULL,");
        assertThat(add.path("removedLeftovers").toString()).contains(leftover);

        assertThat(preflight(fleet, 0, "--table", "t", "--command", "ADD INDEX idx_v (v)").path("algorithm").asText())
                .isEqualTo("INPLACE");
        assertThat(preflight(fleet, 0, "--table", "t", "--command", "MODIFY id BIGINT").path("algorithm").asText())
                .isEqualTo("COPY");
        // A trailing comment must not swallow the algorithm clause the preflight appends.
        assertThat(preflight(fleet, 0, "--table", "t", "--command", "MODIFY id BIGINT -- widen the key")
                .path("algorithm").asText()).isEqualTo("COPY");

        JsonNode bad = preflight(fleet, 3, "--table", "t", "--command", "ADD COLUMN v INT");
        assertThat(bad.path("ok").asBoolean()).isFalse();
        assertThat(bad.path("error").asText()).contains("Duplicate column name 'v'");

        JsonNode noop = preflight(fleet, 0, "--table", "t", "--command", "COMMENT = ''");
        assertThat(noop.path("changesNothing").asBoolean()).isTrue();

        fleet.addVersion("t2", "CREATE TABLE t2 (id INT PRIMARY KEY)");
        JsonNode create = preflight(fleet, 0, "--version", "1");
        assertThat(create.path("diff").asText()).contains("+CREATE TABLE `t2`");

        assertThat(Cli.run(fleet.configFile, "preflight", "--table", "t3", "--command",
                "CREATE TABLE " + fleet.schemas.get(0) + ".t3 (id INT)").exit()).as("names a schema").isEqualTo(2);

        // The shard was never touched, and every scratch schema is gone.
        assertThat(fleet.shardColumn("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '"
                + fleet.schemas.get(0) + "' AND TABLE_NAME = 't' ORDER BY ORDINAL_POSITION")).containsExactly("id", "v");
        assertThat(fleet.shardColumn("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '"
                + fleet.schemas.get(0) + "'")).containsExactly("t");
        assertThat(fleet.shardCount("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '"
                + Preflight.SCRATCH_PREFIX.replace("_", "\\\\_") + "%'")).isZero();
    }

    @Test
    void aScratchSchemaLeftByAKilledPreflightIsRemovedByTheNextOne() {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "prekill", 1);
        fleet.registerAll();
        RunnerProcess slow = RunnerProcess.command(fleet, "slow-preflight", "preflight", "--table", "slow", "--command",
                "CREATE TABLE slow AS SELECT SLEEP(4) AS s");
        // The change runs as a temporary account named like the scratch schema.
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> scratchAccounts(fleet) == 1);
        slow.kill();
        assertThat(scratchSchemas(fleet)).as("the killed preflight could not clean up").isEqualTo(1);
        assertThat(scratchAccounts(fleet)).isEqualTo(1);

        // Once the server has let go of the killed session, the next preflight removes its schema and account.
        Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            JsonNode next = preflight(fleet, 0, "--table", "t", "--command", "ADD COLUMN c INT");
            assertThat(next.path("removedLeftovers")).hasSize(1);
        });
        assertThat(scratchSchemas(fleet)).isZero();
        assertThat(scratchAccounts(fleet)).isZero();
    }

    private static int scratchAccounts(TestFleet fleet) {
        return fleet.shardCount("SELECT COUNT(*) FROM mysql.user WHERE User LIKE '"
                + Preflight.SCRATCH_PREFIX.replace("_", "\\_") + "%'");
    }

    private static int scratchSchemas(TestFleet fleet) {
        return fleet.shardCount("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '"
                + Preflight.SCRATCH_PREFIX.replace("_", "\\_") + "%'");
    }

    private static JsonNode preflight(TestFleet fleet, int exit, String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "preflight";
        all[1] = "--json";
        System.arraycopy(args, 0, all, 2, args.length);
        Cli.Result r = Cli.run(fleet.configFile, all);
        assertThat(r.exit()).as(r.all()).isEqualTo(exit);
        return r.json();
    }
}
