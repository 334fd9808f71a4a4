package io.shardschema.runner;

import io.shardschema.embedded.MariaDbServer;
import io.shardschema.testing.Cli;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The server holding the shards is SIGKILLed mid-rollout and restarted a few seconds later (the catalog lives on
 * another server). The runs that were executing fail with connection errors; their tasks are retried and finish
 * once the server is back; nothing is applied twice and the catalog is left consistent.
 */
class ServerKillTest {
    private static final int SHARDS = 24;
    private static final int VERSIONS = 3;

    @Test
    void tasksOnAKilledServerFailAreRetriedAndFinishAfterItIsBack() throws Exception {
        MariaDbServer shardServer = TestServers.fresh("serverkill");
        try {
            TestFleet fleet = TestFleet.create(TestServers.shared(), shardServer, "skill", SHARDS);
            fleet.set("maxRuns", "10");
            fleet.registerAll();
            for (int v = 1; v <= VERSIONS; v++) {
                fleet.addVersion("slow" + v, "CREATE TABLE slow" + v + " AS SELECT SLEEP(0.25) AS s");
            }
            String cat = "`" + fleet.prefix + "_catalog`";

            CompletableFuture<Cli.Result> run = Cli.start(fleet.configFile, "run", "--json", "--workers", "4");
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> {
                assertThat(run).as("the runner ended early").isNotDone();
                return fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE state = 'applied'") >= 6
                        && fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE state = 'running'"
                        + " AND executed IS NOT NULL") >= 2;
            });
            shardServer.kill();
            long killed = System.nanoTime();

            // The runs that were executing fail with the lost connection, and their tasks wait to be retried.
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() ->
                    fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE state IN ('unknown', 'failed', 'invalid')") >= 2);
            assertThat(run).as("the runner gave up while the server was down").isNotDone();
            long down = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
            Thread.sleep(Math.max(0, 3000 - down));
            shardServer.restart();

            Cli.Result result = run.get(120, TimeUnit.SECONDS);

            assertThat(result.exit()).as(result.all()).isZero();
            assertThat(result.json().path("summary").path("retryLater").asInt()).as(result.out()).isPositive();
            assertThat(result.json().path("failedShards").asInt()).isZero();

            // The failed runs (and a run cut off while checking its landed change) say why: the connection to the shard's server was lost or could not be made.
            int failedRuns = fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE state IN ('unknown', 'failed', 'invalid')");
            assertThat(failedRuns).isGreaterThanOrEqualTo(2);
            assertThat(fleet.column("SELECT err FROM " + cat + ".log WHERE state IN ('unknown', 'failed', 'invalid')"))
                    .allSatisfy(err -> assertThat(err).containsAnyOf("onnection", "ocket", "ommunications link"));
            assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE state = 'unknown'"
                    + " AND message LIKE 'connection lost while executing%'")).isPositive();
            // Each was retried: a later run of the same task finished it.
            assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".log l WHERE state IN ('unknown', 'failed', 'invalid')"
                    + " AND NOT EXISTS (SELECT 1 FROM " + cat + ".log n WHERE n.shardId = l.shardId"
                    + " AND n.version = l.version AND n.run > l.run AND n.state IN ('applied', 'already-applied'))")).isZero();

            // Every shard at the last version; nothing left running in the catalog.
            assertThat(fleet.column("SELECT DISTINCT version FROM " + cat + ".shards")).containsExactly(String.valueOf(VERSIONS));
            assertThat(fleet.column("SELECT DISTINCT state FROM " + cat + ".shards")).containsExactly("ready");
            assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".shards WHERE task IS NOT NULL")).isZero();
            assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE state = 'running' OR finishedAt IS NULL")).isZero();
            assertThat(fleet.column("SELECT DISTINCT state FROM " + cat + ".log ORDER BY state"))
                    .isSubsetOf("applied", "already-applied", "failed", "unknown", "invalid");
            // A run whose change landed but whose check after it lost the connection says so (and was retried above).
            assertThat(fleet.column("SELECT message FROM " + cat + ".log WHERE state = 'invalid'"))
                    .allSatisfy(m -> assertThat(m).startsWith("the change ran but validating it failed"));

            // Each task ended exactly once, and the shards have every table with the row its statement made.
            fleet.assertEachChangeLandedOnce("slow", VERSIONS);
        } finally {
            shardServer.stop();
        }
    }
}
