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
 * The catalog's server is SIGKILLed mid-rollout and restarted: the runner waits it out instead of dying, and the
 * tasks whose end could not be recorded are taken over once stale, found already applied, and not run twice.
 */
class CatalogOutageTest {
    private static final int SHARDS = 16;
    private static final int VERSIONS = 2;

    @Test
    void theRunnerRidesOutACatalogRestart() throws Exception {
        MariaDbServer catalogServer = TestServers.fresh("catalogkill");
        try {
            TestFleet fleet = TestFleet.create(catalogServer, TestServers.shared(), "ckill", SHARDS);
            fleet.set("stallSeconds", "12");
            fleet.registerAll();
            for (int v = 1; v <= VERSIONS; v++) {
                fleet.addVersion("slow" + v, "CREATE TABLE slow" + v + " AS SELECT SLEEP(0.3) AS s");
            }
            String cat = "`" + fleet.prefix + "_catalog`";

            CompletableFuture<Cli.Result> run = Cli.start(fleet.configFile, "run", "--json", "--workers", "4");
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() ->
                    fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE state = 'applied'") >= 4);
            catalogServer.kill();
            Thread.sleep(2000);
            assertThat(run).as("the runner gave up while the catalog was down").isNotDone();
            catalogServer.restart();

            Cli.Result result = run.get(120, TimeUnit.SECONDS);

            assertThat(result.exit()).as(result.all()).isZero();
            assertThat(fleet.column("SELECT DISTINCT version FROM " + cat + ".shards")).containsExactly(String.valueOf(VERSIONS));
            assertThat(fleet.column("SELECT DISTINCT state FROM " + cat + ".shards")).containsExactly("ready");
            assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE state = 'running'")).isZero();
            fleet.assertEachChangeLandedOnce("slow", VERSIONS);
        } finally {
            catalogServer.stop();
        }
    }
}
