package io.shardschema.online;

import io.shardschema.embedded.MariaDbServer;
import io.shardschema.testing.Cli;
import io.shardschema.testing.RunnerProcess;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.shardschema.online.OnlineLifecycleTest.cat;
import static io.shardschema.online.OnlineLifecycleTest.cli;
import static io.shardschema.online.OnlineLifecycleTest.columns;
import static io.shardschema.online.OnlineLifecycleTest.phase;
import static io.shardschema.online.OnlineLifecycleTest.tables;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A runner SIGKILLed during the binlog engine's copy or cut-over: the takeover removes what it left (shadow,
 * changelog, sentry), copies again and swaps; the table ends changed, every row in it once.
 */
class BinlogTakeoverTest {
    private static final int ROWS = 400_000;

    private static TestFleet fleetWithBigTable(String name) throws Exception {
        return fleetWithBigTable(TestFleet.create(TestServers.binlog("11.4"), name, 1));
    }

    private static TestFleet fleetWithBigTable(TestFleet fleet) throws Exception {
        fleet.registerAll();
        try (Connection c = fleet.connect(fleet.schemas.get(0)); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE big (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(40) NOT NULL)");
            s.execute("INSERT INTO big (v) SELECT CONCAT('row', seq) FROM seq_1_to_" + ROWS);
            s.execute("ANALYZE TABLE big");
        }
        assertThat(cli(fleet, "version", "add", "--type", "online", "--auto-approve", "--auto-cutover", "--table",
                "big", "--command", "ADD COLUMN z INT").exit()).isZero();
        return fleet;
    }

    private static void assertAltered(TestFleet fleet) {
        String schema = fleet.schemas.get(0);
        assertThat(phase(fleet)).isEqualTo("completed");
        assertThat(columns(fleet, schema, "big")).containsExactly("id", "v", "z");
        assertThat(fleet.shardCount("SELECT COUNT(*) FROM `" + schema + "`.big WHERE v = CONCAT('row', id)"))
                .isEqualTo(ROWS);
        assertThat(tables(fleet, schema)).as("no shadow, changelog or sentry left").containsExactly("big", "t");
        assertThat(tables(fleet, fleet.prefix + "_pending")).hasSize(1);
        assertThat(fleet.column("SELECT version FROM " + cat(fleet) + ".shards")).containsExactly("1");
    }

    @Test
    void aCopyInterruptedByAKilledRunnerStartsAgainCleanly() throws Exception {
        TestFleet fleet = fleetWithBigTable("bkillcp");
        String schema = fleet.schemas.get(0);
        OnlineTakeoverTest.killMidCopy(fleet, "big__new");
        assertThat(tables(fleet, schema)).contains("big__new", "big__osc");

        Cli.Result second = cli(fleet, "run", "--json");
        assertThat(second.exit()).as(second.all()).isZero();
        assertThat(second.json().path("summary").path("takeovers").asInt()).isEqualTo(1);
        assertAltered(fleet);
        assertThat(fleet.column("SELECT state FROM " + cat(fleet) + ".log ORDER BY run"))
                .containsExactly("stalled", "applied");
    }

    @Test
    void aShardServerKilledMidCopyFailsTheRunAndTheNextCopiesAgain() throws Exception {
        MariaDbServer shardServer = TestServers.fresh("binkill", TestServers.BINLOG);
        try {
            TestFleet fleet = TestFleet.create(TestServers.shared(), shardServer, "bsrvkill", 1);
            fleet.set("maxRuns", "10");
            fleetWithBigTable(fleet);
            String schema = fleet.schemas.get(0);
            CompletableFuture<Cli.Result> run = Cli.start(fleet.configFile, "run", "--json");
            await().atMost(Duration.ofSeconds(90)).ignoreExceptionsInstanceOf(IllegalStateException.class).until(() -> {
                assertThat(run).as("the runner ended early").isNotDone();
                return fleet.shardCount("SELECT COUNT(*) FROM `" + schema + "`.big__new") > 2000;
            });
            shardServer.kill();
            long killed = System.nanoTime();
            await().atMost(Duration.ofSeconds(20)).until(() -> fleet.count("SELECT COUNT(*) FROM " + cat(fleet)
                    + ".log WHERE state = 'failed'") >= 1);
            Thread.sleep(Math.max(0, 3000 - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed)));
            shardServer.restart();

            Cli.Result result = run.get(180, TimeUnit.SECONDS);
            assertThat(result.exit()).as(result.all()).isZero();
            assertAltered(fleet);
            assertThat(fleet.column("SELECT err FROM " + cat(fleet) + ".log WHERE state = 'failed'"))
                    .isNotEmpty().allSatisfy(err -> assertThat(err).containsAnyOf("onnection", "ocket",
                            "ommunications link", "binlog"));
        } finally {
            shardServer.stop();
        }
    }

    @Test
    void aCutOverInterruptedByAKilledRunnerIsUndoneAndDoneAgain() throws Exception {
        TestFleet fleet = fleetWithBigTable("bkillco");
        String schema = fleet.schemas.get(0);
        RunnerProcess first;
        // A reader's open transaction holds the table's metadata lock: each cut-over attempt's LOCK TABLES gives
        // up after a second and is undone; the runner dies between attempts or within one.
        try (Connection reader = fleet.connect(schema); Statement s = reader.createStatement()) {
            reader.setAutoCommit(false);
            s.executeQuery("SELECT * FROM big LIMIT 1").close();
            first = RunnerProcess.start(fleet, "first");
            await().atMost(Duration.ofSeconds(90)).ignoreExceptionsInstanceOf(IndexOutOfBoundsException.class)
                    .until(() -> {
                        assertThat(first.alive()).as(first.output()).isTrue();
                        return phase(fleet).equals("cutting over") && fleet.shardCount("SELECT COUNT(*) FROM"
                                + " information_schema.PROCESSLIST WHERE INFO LIKE 'LOCK TABLES%big%'") > 0;
                    });
            assertThat(tables(fleet, schema)).as("the sentry is in place").anyMatch(t -> t.endsWith("_old"));
            first.kill();
            reader.commit();
        }
        assertThat(columns(fleet, schema, "big")).as("not swapped").containsExactly("id", "v");

        Cli.Result second = cli(fleet, "run", "--json");
        assertThat(second.exit()).as(second.all()).isZero();
        assertAltered(fleet);
        assertThat(fleet.column("SELECT message FROM " + cat(fleet) + ".log ORDER BY run"))
                .anyMatch(m -> m.contains("the run that cut over stopped; nothing was swapped"));
    }
}
