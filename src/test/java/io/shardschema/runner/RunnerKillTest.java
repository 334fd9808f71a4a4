package io.shardschema.runner;

import com.fasterxml.jackson.databind.JsonNode;
import io.shardschema.testing.Cli;
import io.shardschema.testing.RunnerProcess;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A runner is SIGKILLed in the middle of a rollout, with changes executing. Its leases stop heartbeating; a second
 * runner takes them over after the stall timeout, finds the changes the dead runner already landed, and finishes
 * the rollout without applying any change twice.
 */
class RunnerKillTest {
    private static final int SHARDS = 30;
    private static final int VERSIONS = 3;

    @Test
    void aSecondRunnerTakesOverTheKilledRunnersTasksAndAppliesNothingTwice() throws Exception {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "rkill", SHARDS);
        fleet.registerAll();
        // Each change takes 0.3 s and fails with "Table 'slowN' already exists" if it is ever applied twice.
        for (int v = 1; v <= VERSIONS; v++) {
            fleet.addVersion("slow" + v, "CREATE TABLE slow" + v + " AS SELECT SLEEP(0.3) AS s");
        }
        String cat = "`" + fleet.prefix + "_catalog`";

        RunnerProcess first = RunnerProcess.start(fleet, "first", "--workers", "4");
        // Kill it mid-rollout: some tasks done, and changes executing on the shards right now.
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> {
            assertThat(first.alive()).as("the first runner ended early:\n%s", first.output()).isTrue();
            return fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE state = 'applied'") >= 8
                    && fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE state = 'running'"
                    + " AND executed IS NOT NULL") >= 2;
        });
        first.kill();
        assertThat(first.alive()).isFalse();

        // What the dead runner left: leases nobody heartbeats, and runs nobody will close.
        int orphanedTasks = fleet.count("SELECT COUNT(*) FROM " + cat + ".shards WHERE state = 'running'");
        int orphanedRuns = fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE state = 'running'");
        assertThat(orphanedTasks).isPositive();
        assertThat(orphanedRuns).isPositive();
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".shards WHERE version = " + VERSIONS))
                .as("the rollout was not finished when the runner was killed").isLessThan(SHARDS);

        long start = System.nanoTime();
        Cli.Result second = Cli.run(fleet.configFile, "run", "--json", "--workers", "4");
        long millis = (System.nanoTime() - start) / 1_000_000;

        assertThat(second.exit()).as(second.all()).isZero();
        JsonNode summary = second.json().path("summary");
        // The takeover is counted: every task the dead runner held was taken over, once.
        assertThat(summary.path("takeovers").asInt()).as(second.out()).isEqualTo(orphanedTasks);
        // The changes the dead runner had sent landed after it died: they were found in place, not run again.
        assertThat(summary.path("alreadyApplied").asInt()).as(second.out()).isPositive();
        assertThat(summary.path("failed").asInt()).isZero();
        assertThat(summary.path("leasesLost").asInt()).isZero();
        // The last heartbeats were at most a second before the kill: the takeover waited out the rest of the 4 s.
        assertThat(millis).as("takeover waits for the stall timeout").isGreaterThan(2500);

        // Every shard at the last version, no task left running.
        assertThat(fleet.column("SELECT DISTINCT version FROM " + cat + ".shards")).containsExactly(String.valueOf(VERSIONS));
        assertThat(fleet.column("SELECT DISTINCT state FROM " + cat + ".shards")).containsExactly("ready");

        // The dead runner's runs are in the log as stalled, each followed by the run that finished the task.
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE state = 'stalled'")).isEqualTo(orphanedRuns);
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE state = 'stalled'"
                + " AND message LIKE '%stalled: its runner stopped heartbeating, taken over by%'")).isEqualTo(orphanedRuns);
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".log l WHERE state = 'stalled' AND NOT EXISTS"
                + " (SELECT 1 FROM " + cat + ".log n WHERE n.shardId = l.shardId AND n.version = l.version"
                + " AND n.run > l.run AND n.state IN ('applied', 'already-applied')"
                + " AND n.runner <> l.runner)")).isZero();
        assertThat(fleet.column("SELECT DISTINCT runner FROM " + cat + ".log WHERE state = 'stalled'")).hasSize(1);
        assertThat(fleet.column("SELECT DISTINCT state FROM " + cat + ".log ORDER BY state"))
                .isSubsetOf("applied", "already-applied", "stalled");

        // No change applied twice: no run met the "already exists" error, and every task ended exactly once.
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE err IS NOT NULL")).isZero();
        assertThat(fleet.count("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA LIKE '" + fleet.prefix
                + "\\_s%' AND TABLE_NAME LIKE 'slow%'")).isEqualTo(SHARDS * VERSIONS);
        fleet.assertEachChangeLandedOnce("slow", VERSIONS);
    }

    @Test
    void aTakeoverWaitsForTheDeadRunnersStatementStillExecutingAndDoesNotRunItAgain() {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "leftover", 1);
        fleet.registerAll();
        String schema = fleet.schemas.get(0);
        fleet.execute("INSERT INTO `" + schema + "`.t SELECT seq + 10, 'x' FROM mysql.seq_1_to_12000");
        // Busy for several seconds per run (a stored column that is slow to compute), longer than the stall timeout:
        // the server goes on executing it after its runner dies, and a second ALTER would fail on the column.
        String alter = "ADD COLUMN crc BIGINT AS (CRC32(REPEAT(v, 100000))) STORED";
        fleet.addVersion("t", alter);
        String cat = "`" + fleet.prefix + "_catalog`";

        RunnerProcess first = RunnerProcess.start(fleet, "first", "--workers", "1");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> fleet.count(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = 'ALTER TABLE `t` " + alter + "'") == 1);
        first.kill();

        Cli.Result second = Cli.run(fleet.configFile, "run", "--json");

        assertThat(second.exit()).as(second.all()).isZero();
        assertThat(second.json().at("/summary/alreadyApplied").asInt()).as(second.out()).isEqualTo(1);
        assertThat(fleet.column("SELECT state FROM " + cat + ".log ORDER BY run")).containsExactly("stalled", "already-applied");
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE err IS NOT NULL")).isZero();
        assertThat(fleet.count("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '" + schema
                + "' AND COLUMN_NAME = 'crc'")).isEqualTo(1);
    }
}
