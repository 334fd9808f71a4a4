package io.shardschema.online;

import io.shardschema.catalog.Catalog;
import io.shardschema.catalog.Lease;
import io.shardschema.catalog.OnlineCatalog;
import io.shardschema.embedded.MariaDbServer;
import io.shardschema.testing.Cli;
import io.shardschema.testing.RunnerProcess;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import io.shardschema.testing.TestTools;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.shardschema.online.OnlineLifecycleTest.cat;
import static io.shardschema.online.OnlineLifecycleTest.cli;
import static io.shardschema.online.OnlineLifecycleTest.phase;
import static io.shardschema.online.OnlineLifecycleTest.tables;
import static io.shardschema.online.OnlineLifecycleTest.triggers;
import static io.shardschema.online.OnlineTakeoverTest.ROWS;
import static io.shardschema.online.OnlineTakeoverTest.addSlowCopy;
import static io.shardschema.online.OnlineTakeoverTest.assertAltered;
import static io.shardschema.online.OnlineTakeoverTest.fleetWithBigTable;
import static io.shardschema.online.OnlineTakeoverTest.killMidCopy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What keeps two copies off one table and a half-copied table out of the swap: the locks of a copy outlive a catalog
 * outage that stops the dispatcher, every write of an online task is fenced by the lease, and the swap needs a
 * recorded, complete copy whose row count matches the table's.
 */
class OnlineFencingTest {

    @BeforeAll
    static void ptOsc() {
        TestTools.ensurePtOsc();
    }

    @Test
    void aCopyCutOffFromTheCatalogStopsAndKeepsItsTableLockedUntilItHas() throws Exception {
        MariaDbServer catalogServer = TestServers.fresh("ofence-catalog");
        try {
            TestFleet fleet = fleetWithBigTable(catalogServer, "ofenceout");
            fleet.set("stallSeconds", "5");
            String schema = fleet.schemas.get(0);
            // A copy of about 40 s: its runner notices the lost catalog (its heartbeats time out) long before.
            addSlowCopy(fleet, "0.4");
            RunnerProcess runner = RunnerProcess.start(fleet, "copier");
            // The copy has begun (the dry run's shadow table has no triggers and no rows).
            await().atMost(Duration.ofSeconds(90)).ignoreExceptionsInstanceOf(IllegalStateException.class).until(() -> {
                assertThat(runner.alive()).as(runner.output()).isTrue();
                return triggers(fleet, schema) == 3
                        && fleet.shardCount("SELECT COUNT(*) FROM `" + schema + "`._big_new") > 0;
            });
            catalogServer.kill();

            // Its lease can no longer be confirmed: before another runner could take the task over, the runner stops
            // the copy; and as long as pt-osc runs, its server slot stays taken, so no second copy can start.
            boolean stoppedWhileAlive = false;
            while (runner.alive()) {
                if (ptOscRunning(schema)) {
                    assertThat(fleet.shardColumn("SELECT IS_USED_LOCK('shardschema.online.1')").get(0))
                            .as("the online slot while pt-osc copies").isNotNull();
                } else {
                    stoppedWhileAlive = true;
                }
                Thread.sleep(200);
            }
            assertThat(stoppedWhileAlive).as(runner.output()).isTrue();
            assertThat(runner.output()).contains("went unconfirmed for too long: counted as lost");
            catalogServer.restart();

            // What the stopped copy left is cleaned up by the next run (cancelled here, to spare a second copy).
            assertThat(cli(fleet, "cancel", "1").exit()).isZero();
            Cli.Result rest = cli(fleet, "run", "--json");
            assertThat(rest.json().at("/summary/takeovers").asInt()).as(rest.all()).isEqualTo(1);
            assertThat(phase(fleet)).isEqualTo("cancelled");
            assertThat(triggers(fleet, schema)).isZero();
            assertThat(tables(fleet, schema)).containsExactly("big", "t");
            assertThat(fleet.shardCount("SELECT COUNT(*) FROM `" + schema + "`.big")).isEqualTo(ROWS);
        } finally {
            catalogServer.stop();
        }
    }

    /** A pt-osc process works on {@code schema}. */
    private static boolean ptOscRunning(String schema) {
        return ProcessHandle.allProcesses().anyMatch(p -> p.info().commandLine()
                .filter(line -> line.contains("pt-online-schema-change") && line.contains("D=" + schema + ",")).isPresent());
    }

    @Test
    void aWriterWithoutTheLeaseChangesNoOnlineTask() throws Exception {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "ofencestale", 1);
        fleet.registerAll();
        assertThat(cli(fleet, "version", "add", "--type", "pt-osc", "--no-preflight", "--table", "t", "--command",
                "ADD COLUMN z INT").exit()).isZero();
        try (Catalog catalog = fleet.openCatalog()) {
            long shard = catalog.shards().get(0).id();
            catalog.online().open(shard, 1);
            // The shard is claimed by another runner: its task column names a lease this writer does not hold.
            fleet.execute("UPDATE " + cat(fleet) + ".shards SET state = 'running', task = 'other#1', lastTaskHb = NOW()");
            Lease stale = new Lease("stale#1", shard, fleet.schemas.get(0), "", "", 0, 1, 0, false, 1, null, 0);

            assertThat(catalog.online().move(stale, OnlineCatalog.PREPARING, OnlineCatalog.AWAITING_APPROVAL, null))
                    .isEqualTo(OnlineCatalog.Move.LEASE_LOST);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> catalog.online().phase(stale, OnlineCatalog.CUTTING_OVER))
                    .isInstanceOf(Catalog.LeaseLost.class);
            catalog.online().progress(stale, 99.0, 1);
            assertThat(fleet.column("SELECT CONCAT(phase, ' ', COALESCE(progress, '-')) FROM " + cat(fleet) + ".online"))
                    .containsExactly(OnlineCatalog.PREPARING + " -");
        }
    }

    /**
     * A copy killed halfway, then the task's record says it is cutting over, as a stale writer could once make it
     * say, with or without a forged record of a completed copy: nothing half-copied is swapped in, the copy is
     * done again, and no row of the table is lost.
     */
    @ParameterizedTest
    @ValueSource(strings = {"NULL", "1"})
    void aHalfCopiedShadowTableIsNeverSwappedIn(String copiedRun) throws Exception {
        TestFleet fleet = fleetWithBigTable("ofencehalf");
        String schema = fleet.schemas.get(0);
        addSlowCopy(fleet, "0.05");
        killMidCopy(fleet);
        int copied = fleet.shardCount("SELECT COUNT(*) FROM `" + schema + "`._big_new");
        assertThat(copied).isLessThan(ROWS);
        assertThat(triggers(fleet, schema)).isEqualTo(3);
        fleet.execute("UPDATE " + cat(fleet) + ".online SET phase = 'cutting over', copiedRun = " + copiedRun
                + ", oldTable = '_big_forged_old', pendingTable = 'forged_big'");

        Cli.Result second = cli(fleet, "run", "--json");

        assertThat(second.exit()).as(second.all()).isZero();
        assertAltered(fleet);
        assertThat(phase(fleet)).isEqualTo("completed");
        assertThat(fleet.column("SELECT message FROM " + cat(fleet) + ".log WHERE message LIKE '%nothing was swapped%'"))
                .as("the forged cut-over was refused").hasSize(1);
    }

    @Test
    void aTakeoverHandedBackForABusyOnlineSlotClosesTheDeadRun() throws Exception {
        TestFleet fleet = fleetWithBigTable("ofencebusy");
        addSlowCopy(fleet, "0.05");
        killMidCopy(fleet);
        CompletableFuture<Cli.Result> second;
        // The server's only online slot is taken (as by another table's copy): the takeover must wait for it.
        try (Connection slot = fleet.connect(null); Statement s = slot.createStatement()) {
            s.executeQuery("SELECT GET_LOCK('shardschema.online.1', 0)").close();
            second = Cli.start(fleet.configFile, "run", "--json");
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() ->
                    fleet.column("SELECT state FROM " + cat(fleet) + ".log WHERE run = 1").equals(List.of("stalled")));
            assertThat(fleet.column("SELECT message FROM " + cat(fleet) + ".log WHERE run = 1").get(0))
                    .contains("waits for a free online slot");
            assertThat(second).isNotDone();
        }
        Cli.Result result = second.get(180, TimeUnit.SECONDS);
        assertThat(result.exit()).as(result.all()).isZero();
        assertAltered(fleet);
        assertThat(fleet.column("SELECT state FROM " + cat(fleet) + ".log ORDER BY run")).containsExactly("stalled", "applied");
    }
}
