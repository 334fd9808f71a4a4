package io.shardschema.runner;

import com.fasterxml.jackson.databind.JsonNode;
import io.shardschema.testing.Cli;
import io.shardschema.testing.RunnerProcess;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A runner frozen by SIGSTOP in the middle of a run (a GC pause, a VM freeze), for longer than stallSeconds: a
 * second runner takes its task over and rolls the shard through a version that adds a column and one that drops
 * it; then the frozen runner is thawed. Whatever it was about to send must never land: the schema ends exactly as
 * the versions say, and each version was applied once.
 */
class FrozenRunnerTest {

    @ParameterizedTest
    @EnumSource(FreezePoint.class)
    void aRunnerFrozenMidRunLandsNothingAfterItsTaskWasTakenOver(FreezePoint point) throws Exception {
        TestFleet fleet = addThenDrop("frozen");
        RunnerProcess frozen = RunnerProcess.start(fleet, "frozen-" + point,
                List.of("-Dshardschema.freezeAt=" + point.name()), "--workers", "1");
        try {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> {
                assertThat(frozen.alive()).as("the runner ended before it froze:\n%s", frozen.output()).isTrue();
                return frozen.frozen();
            });

            Cli.Result second = Cli.run(fleet.configFile, "run", "--json");

            assertThat(second.exit()).as(second.all()).isZero();
            assertThat(second.json().at("/summary/takeovers").asInt()).as(second.out()).isEqualTo(1);
            frozen.thaw();
            frozen.waitFor(60);
        } finally {
            release(frozen);
        }
        assertRolledThroughExactlyOnce(fleet);
    }

    @Test
    void aRunnerFrozenWhileItsStatementWaitsAtTheServerIsWaitedForNotRepeated() throws Exception {
        TestFleet fleet = addThenDrop("frozensent");
        // The statement waits for a reader's metadata lock long enough for the takeover to meet it at the server.
        fleet.set("lockWaitTimeoutSeconds", "60");
        String schema = fleet.schemas.get(0);
        RunnerProcess frozen;
        CompletableFuture<Cli.Result> second;
        try (Connection reader = fleet.connect(schema); Statement s = reader.createStatement()) {
            reader.setAutoCommit(false);
            s.executeQuery("SELECT * FROM t").close();
            frozen = RunnerProcess.start(fleet, "frozen-sent", "--workers", "1");
            try {
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> fleet.shardCount(
                        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = 'ALTER TABLE `t` ADD COLUMN x INT'"
                                + " AND STATE LIKE '%metadata lock%'") == 1);
                frozen.freeze();
                // A frozen runner stops heartbeating: after stallSeconds, status lists its task as stalled, named.
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() ->
                        Cli.run(fleet.configFile, "status", "--json").json().path("stalled").size() == 1);
                assertThat(Cli.run(fleet.configFile, "status").out())
                        .contains("stalled: " + fleet.shardName(1) + " at version 0, task ");
                JsonNode stalled = Cli.run(fleet.configFile, "status", "--json").json().path("stalled").get(0);
                assertThat(stalled.path("shardId").asLong()).isEqualTo(1);
                assertThat(stalled.path("schema").asText()).isEqualTo(schema);
                assertThat(stalled.path("server").asText()).isEqualTo(fleet.serverKey());
                second = Cli.start(fleet.configFile, "run", "--json");
                String cat = "`" + fleet.prefix + "_catalog`";
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() ->
                        fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE run = 2") == 1);
                // The takeover's run waits at the fence while the frozen runner's statement still executes.
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> fleet.shardCount(
                        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT GET_LOCK(%'"
                                + " AND STATE = 'User lock'") >= 1);
                assertThat(fleet.shardCount("SELECT COUNT(*) FROM information_schema.PROCESSLIST"
                        + " WHERE INFO = 'ALTER TABLE `t` ADD COLUMN x INT'")).isEqualTo(1);
                assertThat(second).isNotDone();
            } catch (Throwable e) {
                release(frozen);
                throw e;
            }
            reader.commit();
        }
        try {
            Cli.Result result = second.get(120, TimeUnit.SECONDS);
            assertThat(result.exit()).as(result.all()).isZero();
            // The frozen runner's statement landed while the takeover waited for it: found in place, not re-run.
            assertThat(result.json().at("/summary/alreadyApplied").asInt()).as(result.out()).isEqualTo(1);
            frozen.thaw();
            frozen.waitFor(60);
        } finally {
            release(frozen);
        }
        assertRolledThroughExactlyOnce(fleet);
    }

    /** One shard; version 1 adds column x to t, version 2 drops it again. */
    private static TestFleet addThenDrop(String name) {
        TestFleet fleet = TestFleet.create(TestServers.shared(), name, 1);
        fleet.registerAll();
        fleet.addVersion("t", "ADD COLUMN x INT");
        fleet.addVersion("t", "DROP COLUMN x");
        return fleet;
    }

    private static void release(RunnerProcess runner) {
        if (runner.alive()) {
            runner.thaw();
            runner.kill();
        }
    }

    private static void assertRolledThroughExactlyOnce(TestFleet fleet) {
        String cat = "`" + fleet.prefix + "_catalog`";
        Cli.Result again = Cli.run(fleet.configFile, "run", "--json");
        assertThat(again.exit()).as(again.all()).isZero();
        assertThat(again.json().at("/summary/applied").asInt()).as("nothing was left to do").isZero();

        assertThat(fleet.column("SELECT CONCAT(version, ' ', state) FROM " + cat + ".shards")).containsExactly("2 ready");
        assertThat(fleet.shardColumn("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '"
                + fleet.schemas.get(0) + "' AND TABLE_NAME = 't' ORDER BY ORDINAL_POSITION")).containsExactly("id", "v");
        for (int v = 1; v <= 2; v++) {
            assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE version = " + v
                    + " AND state IN ('applied', 'already-applied')")).as("version %d ended once", v).isEqualTo(1);
        }
        // No run met its change already in place, or its column already gone: nothing ran twice.
        assertThat(fleet.column("SELECT err FROM " + cat + ".log WHERE err LIKE '%Duplicate column%'"
                + " OR err LIKE '%check that%exists%'")).isEmpty();
    }
}
