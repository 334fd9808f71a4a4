package io.shardschema.online;

import io.shardschema.runner.ThrottleControl;
import io.shardschema.testing.Cli;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.shardschema.online.OnlineLifecycleTest.cat;
import static io.shardschema.online.OnlineLifecycleTest.cli;
import static io.shardschema.online.OnlineLifecycleTest.columns;
import static io.shardschema.online.OnlineLifecycleTest.contents;
import static io.shardschema.online.OnlineLifecycleTest.phase;
import static io.shardschema.online.OnlineLifecycleTest.shardState;
import static io.shardschema.online.OnlineLifecycleTest.tables;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The built-in engine ({@code --type online}) driven by the runner's lifecycle on a server with a ROW binlog: the
 * same gates, commands and records as pt-osc versions; the throttle file's pause within a second; a cancel.
 */
class BinlogLifecycleTest {
    private static final String FLAVOUR = "11.4";
    /** Rows of the paused table: enough for a copy of several seconds. */
    private static final int ROWS = 600_000;

    /** One shard on the binlog server with a table `big` (id, k, v) of {@code rows} rows, as the writer expects. */
    private static TestFleet fleetWithBigTable(String name, int rows) throws Exception {
        TestFleet fleet = TestFleet.create(TestServers.binlog(FLAVOUR), name, 1);
        fleet.registerAll();
        try (Connection c = fleet.connect(fleet.schemas.get(0)); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE big (id INT AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL, v VARCHAR(40) NOT NULL)");
            s.execute("INSERT INTO big (k, v) SELECT seq, CONCAT('row', seq) FROM seq_1_to_" + rows);
            s.execute("ANALYZE TABLE big");
        }
        return fleet;
    }

    @Test
    void aTableIsChangedThroughEveryGateWhileAWriterKeepsWriting() throws Exception {
        TestFleet fleet = fleetWithBigTable("binlc", 100_000);
        String schema = fleet.schemas.get(0);
        fleet.execute("CREATE TABLE `" + schema + "`.marks (what VARCHAR(40))");
        Cli.Result add = cli(fleet, "version", "add", "--type", "online", "--table", "big", "--command",
                "ADD COLUMN z INT NOT NULL DEFAULT 0", "--final-insert", "INSERT INTO marks VALUES ('swapped')");
        assertThat(add.exit()).as(add.all()).isZero();
        assertThat(cli(fleet, "version", "list").out()).contains("online");

        try (OnlineLifecycleTest.Writer writer = new OnlineLifecycleTest.Writer(fleet, schema)) {
            // Gate 1: checked (the shadow made and dropped again), nothing copied.
            Cli.Result first = cli(fleet, "run");
            assertThat(first.exit()).as(first.all()).isZero();
            assertThat(phase(fleet)).isEqualTo("awaiting approval");
            assertThat(shardState(fleet)).isEqualTo("waiting");
            assertThat(tables(fleet, schema)).containsExactly("big", "marks", "t");

            // Gate 2: copied and checked; the copy is not kept between runs.
            assertThat(cli(fleet, "approve", "1").exit()).isZero();
            Cli.Result copy = cli(fleet, "run");
            assertThat(copy.exit()).as(copy.all()).isZero();
            assertThat(phase(fleet)).isEqualTo("awaiting cut-over");
            assertThat(columns(fleet, schema, "big")).doesNotContain("z");
            assertThat(tables(fleet, schema)).containsExactly("big", "marks", "t");
            assertThat(fleet.column("SELECT output FROM " + cat(fleet) + ".log WHERE run = 2").get(0))
                    .containsPattern("copied \\d+ rows").contains("the shadow table equals the table");

            assertThat(cli(fleet, "cutover", "1").exit()).isZero();
            Cli.Result last = cli(fleet, "run");
            assertThat(last.exit()).as(last.all()).isZero();
            writer.stop();

            assertThat(writer.errors).isEmpty();
            assertThat(writer.deadlocks.get()).as("deadlocks the engine caused").isZero();
            assertThat(writer.operations.get()).as("writes during copy and cut-over").isGreaterThan(100);
            assertThat(columns(fleet, schema, "big")).contains("z");
            assertThat(contents(fleet, schema)).isEqualTo(new TreeMap<>(writer.expected));
        }
        assertThat(phase(fleet)).isEqualTo("completed");
        assertThat(fleet.shardColumn("SELECT version FROM " + cat(fleet) + ".shards")).containsExactly("1");
        assertThat(fleet.shardColumn("SELECT what FROM `" + schema + "`.marks")).containsExactly("swapped");
        assertThat(tables(fleet, schema)).as("no shadow, changelog or sentry left").containsExactly("big", "marks", "t");
        List<String> pending = tables(fleet, fleet.prefix + "_pending");
        assertThat(pending).singleElement().asString().endsWith("_" + schema + "_big");
        assertThat(columns(fleet, fleet.prefix + "_pending", pending.get(0))).doesNotContain("z");
        assertThat(fleet.column("SELECT state FROM " + cat(fleet) + ".log ORDER BY run"))
                .containsExactly("waiting", "waiting", "applied");
        assertThat(fleet.column("SELECT output FROM " + cat(fleet) + ".log WHERE run = 3").get(0))
                .contains("copying again").contains("swapped").contains("final insert: 1 rows");
    }

    @Test
    void aPauseHoldsTheCopyWithinASecondAndACancelEndsItCleanly() throws Exception {
        TestFleet fleet = fleetWithBigTable("binpause", ROWS);
        String schema = fleet.schemas.get(0);
        assertThat(cli(fleet, "version", "add", "--type", "online", "--auto-approve", "--table", "big", "--command",
                "ADD COLUMN z INT").exit()).isZero();
        CompletableFuture<Cli.Result> run = Cli.start(fleet.configFile, "run");
        String shadow = "`" + schema + "`.big__new";
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> phase(fleet).equals("copying")
                && fleet.shardCount("SELECT COUNT(*) FROM " + shadow) > 1000);
        ThrottleControl.write(fleet.dir.resolve("throttle"), "pause");
        Thread.sleep(1000);
        int atPause = fleet.shardCount("SELECT COUNT(*) FROM " + shadow);
        Thread.sleep(2000);
        assertThat(fleet.shardCount("SELECT COUNT(*) FROM " + shadow)).as("no rows copied while paused")
                .isEqualTo(atPause);
        assertThat(atPause).isLessThan(ROWS / 2);
        // The progress reaches the task (written while paused too), as the status shows it.
        await().atMost(Duration.ofSeconds(5)).until(() -> !fleet.column("SELECT COALESCE(progress, '') FROM "
                + cat(fleet) + ".online").get(0).isEmpty());
        assertThat(cli(fleet, "status").out()).containsPattern("version 1 online: 1 copying \\(mean \\d+%");

        ThrottleControl.remove(fleet.dir.resolve("throttle"));
        Thread.sleep(1000);
        assertThat(fleet.shardCount("SELECT COUNT(*) FROM " + shadow)).as("copying again after the resume")
                .isGreaterThan(atPause);

        assertThat(cli(fleet, "cancel", "1").exit()).isZero();
        Cli.Result done = run.get(30, TimeUnit.SECONDS);
        assertThat(done.exit()).as(done.all()).isEqualTo(3);
        assertThat(phase(fleet)).isEqualTo("cancelled");
        assertThat(fleet.column("SELECT state FROM " + cat(fleet) + ".log ORDER BY run DESC LIMIT 1"))
                .containsExactly("cancelled");
        assertThat(tables(fleet, schema)).as("shadow and changelog removed").containsExactly("big", "t");
        assertThat(columns(fleet, schema, "big")).containsExactly("id", "k", "v");
        assertThat(fleet.shardCount("SELECT COUNT(*) FROM `" + schema + "`.big")).isEqualTo(ROWS);
    }
}
