package io.shardschema.runner;

import io.shardschema.embedded.MariaDbServer;
import io.shardschema.testing.RunnerProcess;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What a runner prints on stderr while its catalog and shard server is down: one line per problem, no stack traces
 * of the connection pool.
 */
class OutageLoggingTest {

    @Test
    void aServerOutageLogsOneLineWarningsWithoutStackTraces() throws Exception {
        MariaDbServer server = TestServers.fresh("outagelog");
        try {
            TestFleet fleet = TestFleet.create(server, "outlog", 6);
            fleet.set("stallSeconds", "10");
            fleet.registerAll();
            fleet.addVersion("slow", "CREATE TABLE slow AS SELECT SLEEP(1) AS s");
            String cat = "`" + fleet.prefix + "_catalog`";
            RunnerProcess runner = RunnerProcess.start(fleet, "runner", "--workers", "2");
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() ->
                    fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE state = 'applied'") >= 1);
            server.kill();
            // The pool notices within a few seconds (heartbeat 1 s); wait until it has said so.
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() ->
                    Files.readString(runner.stderr).contains("WARN"));
            server.restart();
            int exit = runner.waitFor(120);

            String err = Files.readString(runner.stderr);
            assertThat(exit).as(err).isZero();
            assertThat(err).doesNotContain("\tat ").doesNotContain("Caused by").as("logback's own complaints")
                    .doesNotContain("ch.qos.logback");
            assertThat(err).as("the pool's warning, on one line").containsPattern(
                    "WARN  ProxyConnection - catalog - Connection .* marked as broken .*: .*Socket error \\(.+\\)\n");
        } finally {
            server.stop();
        }
    }
}
