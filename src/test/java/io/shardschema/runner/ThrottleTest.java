package io.shardschema.runner;

import io.shardschema.config.DataSources;
import io.shardschema.testing.Cli;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The throttle and the per-server budget, measured from outside the runner: finished runs in the log, and the
 * changes actually executing on the server, sampled from information_schema.PROCESSLIST every 20 ms.
 */
class ThrottleTest {

    @Test
    void pauseStopsNewTasksWithinASecondAndResumeFinishesTheRollout() throws Exception {
        int shards = 60;
        TestFleet fleet = TestFleet.create(TestServers.shared(), "thrpause", shards);
        fleet.registerAll();
        fleet.addVersion("pz", "CREATE TABLE pz AS SELECT SLEEP(0.2) AS s");
        String cat = "`" + fleet.prefix + "_catalog`";
        String finished = "SELECT COUNT(*) FROM " + cat + ".log WHERE state <> 'running'";

        CompletableFuture<Cli.Result> run = Cli.start(fleet.configFile, "run", "--json", "--workers", "4");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                .until(() -> fleet.count(finished) >= 8);

        Cli.Result pause = Cli.run(fleet.configFile, "throttle", "pause");
        assertThat(pause.exit()).as(pause.all()).isZero();
        String pausedAt = fleet.column("SELECT NOW(3)").get(0);

        // Running work finishes; within about a second nothing new starts, and the finished count stops growing.
        Thread.sleep(1500);
        int afterPause = fleet.count(finished);
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE state = 'running'")).isZero();
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".shards WHERE state = 'running'")).isZero();
        Thread.sleep(2000);
        assertThat(fleet.count(finished)).as("tasks finished while paused").isEqualTo(afterPause);
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE startedAt > '" + pausedAt
                + "' + INTERVAL 1 SECOND")).as("tasks started more than a second after the pause").isZero();
        assertThat(afterPause).as("work was left when paused").isLessThan(shards);
        assertThat(run).as("a paused runner waits").isNotDone();
        Cli.Result status = Cli.run(fleet.configFile, "status");
        assertThat(status.out()).contains("throttle: paused");

        Cli.Result resume = Cli.run(fleet.configFile, "throttle", "resume");
        assertThat(resume.exit()).as(resume.all()).isZero();
        Cli.Result result = run.get(60, TimeUnit.SECONDS);

        assertThat(result.exit()).as(result.all()).isZero();
        assertThat(result.json().path("summary").path("applied").asInt()).isEqualTo(shards);
        assertAllAppliedOnce(fleet, shards);
    }

    @Test
    void workersOneCapsTheChangesRunningAtOnceToOne() throws Exception {
        int shards = 50;
        TestFleet fleet = TestFleet.create(TestServers.shared(), "thrwork", shards);
        fleet.registerAll();
        fleet.addVersion("wk", "CREATE TABLE wk AS SELECT SLEEP(0.2) AS s");

        try (ProcesslistSampler sampler = new ProcesslistSampler(fleet, "wk")) {
            CompletableFuture<Cli.Result> run = Cli.start(fleet.configFile, "run", "--json", "--workers", "8");
            // At full speed several changes run at once (so the sampler does see concurrency)...
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(10)).until(() -> sampler.max() >= 3);

            Cli.Result throttle = Cli.run(fleet.configFile, "throttle", "workers", "1");
            assertThat(throttle.exit()).as(throttle.all()).isZero();
            // ...and once the runner has re-read the file and its running tasks are done, never more than one.
            long capped = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
            Cli.Result result = run.get(60, TimeUnit.SECONDS);

            assertThat(result.exit()).as(result.all()).isZero();
            assertThat(sampler.samplesSince(capped)).as("samples taken while capped").hasSizeGreaterThan(50);
            assertThat(sampler.maxSince(capped)).as("changes running at once under `throttle workers 1`").isEqualTo(1);
        }
        assertAllAppliedOnce(fleet, shards);
    }

    @Test
    void thePerServerBudgetCapsTheChangesRunningOnOneServer() throws Exception {
        int shards = 24;
        TestFleet fleet = TestFleet.create(TestServers.shared(), "thrbudget", shards);
        fleet.set("perServerConcurrency", "2");
        fleet.registerAll();
        fleet.addVersion("bd", "CREATE TABLE bd AS SELECT SLEEP(0.2) AS s");

        try (ProcesslistSampler sampler = new ProcesslistSampler(fleet, "bd")) {
            Cli.Result result = Cli.run(fleet.configFile, "run", "--json", "--workers", "8");

            assertThat(result.exit()).as(result.all()).isZero();
            assertThat(sampler.max()).as("changes running at once on the one server, budget 2").isEqualTo(2);
        }
        assertAllAppliedOnce(fleet, shards);
    }

    /** Every shard reached version 1 with one applied run each. */
    private static void assertAllAppliedOnce(TestFleet fleet, int shards) {
        String cat = "`" + fleet.prefix + "_catalog`";
        assertThat(fleet.column("SELECT DISTINCT version FROM " + cat + ".shards")).containsExactly("1");
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE state = 'applied'")).isEqualTo(shards);
    }

    /**
     * Counts, every 20 ms from a connection of its own, the statements of one change executing on the fleet's
     * shards, as the server itself lists them.
     */
    private static final class ProcesslistSampler implements AutoCloseable {
        record Sample(long nanos, int running) {
        }

        private final List<Sample> samples = new CopyOnWriteArrayList<>();
        private final Thread thread;
        private volatile boolean stop;
        private volatile Exception failure;

        ProcesslistSampler(TestFleet fleet, String table) {
            String sql = "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND = 'Query'"
                    + " AND DB LIKE '" + fleet.prefix + "\\_s%' AND INFO LIKE 'CREATE TABLE " + table + " AS SELECT SLEEP%'";
            Connection c = DataSources.connect(fleet.shardServer.rootDsn(null));
            thread = new Thread(() -> {
                try (c; Statement s = c.createStatement()) {
                    while (!stop) {
                        try (ResultSet rs = s.executeQuery(sql)) {
                            rs.next();
                            samples.add(new Sample(System.nanoTime(), rs.getInt(1)));
                        }
                        Thread.sleep(20);
                    }
                } catch (SQLException | InterruptedException e) {
                    failure = e;
                }
            }, "processlist-sampler");
            thread.setDaemon(true);
            thread.start();
        }

        int max() {
            return maxSince(Long.MIN_VALUE);
        }

        int maxSince(long nanos) {
            return samplesSince(nanos).stream().mapToInt(Sample::running).max().orElse(0);
        }

        List<Sample> samplesSince(long nanos) {
            checkHealthy();
            return samples.stream().filter(s -> s.nanos() - nanos >= 0 || nanos == Long.MIN_VALUE).toList();
        }

        private void checkHealthy() {
            if (failure != null) {
                throw new IllegalStateException("the sampler failed", failure);
            }
        }

        @Override
        public void close() throws InterruptedException {
            stop = true;
            thread.join(5000);
            checkHealthy();
        }
    }
}
