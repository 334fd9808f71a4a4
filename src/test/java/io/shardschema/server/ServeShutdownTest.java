package io.shardschema.server;

import io.shardschema.testing.RunnerProcess;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * `serve --run` stopped with SIGTERM while its runner executes changes: the runner takes nothing new, lets the
 * running changes end and records them, and leaves the catalog clean (no lease, no run left open, no runner row).
 */
class ServeShutdownTest {

    @Test
    void sigtermLetsRunningTasksEndAndRecordsThem() throws Exception {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "shutdown", 6);
        fleet.set("workers", "2");
        fleet.registerAll();
        fleet.addVersion("slow", "CREATE TABLE slow AS SELECT SLEEP(2) AS s");
        String cat = "`" + fleet.prefix + "_catalog`";

        RunnerProcess serve = RunnerProcess.command(fleet, "serve", "serve", "--port", "0", "--run");
        try {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() ->
                    fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE state = 'running' AND executed IS NOT NULL") == 2);
            assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".runners")).isEqualTo(1);
            serve.terminate();
            // 143 = 128 + SIGTERM: the JVM's exit status after a shutdown by signal, once the hooks are done.
            assertThat(serve.waitFor(60)).as(serve.output()).isEqualTo(143);
        } finally {
            serve.kill();
        }
        assertThat(Files.readString(serve.stderr)).contains("takes no new task");
        // The two changes that were running ended and were recorded; nothing else was started.
        assertThat(fleet.column("SELECT state FROM " + cat + ".log")).containsExactly("applied", "applied");
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".shards WHERE version = 1 AND state = 'ready'")).isEqualTo(2);
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".shards WHERE task IS NOT NULL OR state <> 'ready'")).isZero();
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".runners")).isZero();
    }
}
