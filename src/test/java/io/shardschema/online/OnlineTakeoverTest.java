package io.shardschema.online;

import io.shardschema.embedded.MariaDbServer;
import io.shardschema.testing.Cli;
import io.shardschema.testing.TestTools;
import io.shardschema.testing.RunnerProcess;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;

import static io.shardschema.online.OnlineLifecycleTest.cat;
import static io.shardschema.online.OnlineLifecycleTest.cli;
import static io.shardschema.online.OnlineLifecycleTest.columns;
import static io.shardschema.online.OnlineLifecycleTest.phase;
import static io.shardschema.online.OnlineLifecycleTest.tables;
import static io.shardschema.online.OnlineLifecycleTest.triggers;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A runner SIGKILLed during an online change's copy or cut-over; another runner takes over and finishes it. */
class OnlineTakeoverTest {
    static final int ROWS = 50_000;

    @BeforeAll
    static void ptOsc() {
        TestTools.ensurePtOsc();
    }

    static TestFleet fleetWithBigTable(String name) throws Exception {
        return fleetWithBigTable(TestServers.shared(), name);
    }

    /** One shard with a table `big` of ROWS rows; the catalog on {@code catalogServer}, the shard on the shared server. */
    static TestFleet fleetWithBigTable(MariaDbServer catalogServer, String name) throws Exception {
        TestFleet fleet = TestFleet.create(catalogServer, TestServers.shared(), name, 1);
        fleet.set("lockWaitTimeoutSeconds", "120");
        fleet.registerAll();
        try (Connection c = fleet.connect(fleet.schemas.get(0)); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE big (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(40) NOT NULL)");
            s.execute("INSERT INTO big (v) SELECT CONCAT('row', seq) FROM seq_1_to_" + ROWS);
            // Fresh statistics: pt-osc copies a table it believes small in one chunk.
            s.execute("ANALYZE TABLE big");
        }
        return fleet;
    }

    /**
     * Adds the online version `big` ADD COLUMN z, auto-approved and cut over, copied in chunks of 500 rows with
     * {@code sleep} seconds between them.
     */
    static void addSlowCopy(TestFleet fleet, String sleep) {
        assertThat(cli(fleet, "version", "add", "--type", "pt-osc", "--auto-approve", "--auto-cutover", "--table",
                "big", "--command", "ADD COLUMN z INT", "--option", "chunk-size=500", "--option", "chunk-time=0",
                "--option", "sleep=" + sleep).exit()).isZero();
    }

    /** Starts a runner and SIGKILLs it once its copy has put more than 2,000 rows in pt-osc's shadow table. */
    static void killMidCopy(TestFleet fleet) {
        killMidCopy(fleet, "_big_new");
    }

    /** Starts a runner and SIGKILLs it once its copy has put more than 2,000 rows in the shadow table {@code shadow}. */
    static void killMidCopy(TestFleet fleet, String shadow) {
        String schema = fleet.schemas.get(0);
        RunnerProcess first = RunnerProcess.start(fleet, "first");
        await().atMost(Duration.ofSeconds(90)).ignoreExceptionsInstanceOf(IllegalStateException.class).until(() -> {
            assertThat(first.alive()).as(first.output()).isTrue();
            return tables(fleet, schema).contains(shadow)
                    && fleet.shardCount("SELECT COUNT(*) FROM `" + schema + "`.`" + shadow + "`") > 2000;
        });
        first.kill();
    }

    static void assertAltered(TestFleet fleet) {
        String schema = fleet.schemas.get(0);
        assertThat(phase(fleet)).isEqualTo("completed");
        assertThat(columns(fleet, schema, "big")).containsExactly("id", "v", "z");
        assertThat(fleet.shardCount("SELECT COUNT(*) FROM `" + schema + "`.big WHERE v = CONCAT('row', id)"))
                .isEqualTo(ROWS);
        assertThat(triggers(fleet, schema)).isZero();
        assertThat(tables(fleet, schema)).containsExactly("big", "t");
        assertThat(tables(fleet, fleet.prefix + "_pending")).hasSize(1);
        assertThat(fleet.column("SELECT version FROM " + cat(fleet) + ".shards")).containsExactly("1");
    }

    @Test
    void aCopyInterruptedByAKilledRunnerStartsAgainCleanly() throws Exception {
        TestFleet fleet = fleetWithBigTable("okillcp");
        String schema = fleet.schemas.get(0);
        addSlowCopy(fleet, "0.05");
        killMidCopy(fleet);
        // pt-osc dies with its runner: the copy stops.
        await().atMost(Duration.ofSeconds(10)).until(() -> fleet.shardCount("SELECT COUNT(*) FROM"
                + " information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID()"
                + " AND INFO LIKE '%pt-online-schema-change%copy%'") == 0);
        assertThat(triggers(fleet, schema)).isEqualTo(3);

        Cli.Result second = cli(fleet, "run", "--json");
        assertThat(second.exit()).as(second.all()).isZero();
        assertThat(second.json().path("summary").path("takeovers").asInt()).isEqualTo(1);
        assertAltered(fleet);
        assertThat(fleet.column("SELECT state FROM " + cat(fleet) + ".log ORDER BY run"))
                .containsExactly("stalled", "applied");
    }

    @Test
    void aCutOverInterruptedByAKilledRunnerIsFinishedByTheTakeover() throws Exception {
        TestFleet fleet = fleetWithBigTable("okillco");
        String schema = fleet.schemas.get(0);
        assertThat(cli(fleet, "version", "add", "--type", "pt-osc", "--auto-approve", "--table", "big", "--command",
                "ADD COLUMN z INT").exit()).isZero();
        assertThat(cli(fleet, "run").exit()).isZero();
        assertThat(phase(fleet)).isEqualTo("awaiting cut-over");
        assertThat(cli(fleet, "cutover", "1").exit()).isZero();

        RunnerProcess first;
        // A reader's open transaction holds the table: the swap waits for it, and the runner dies meanwhile.
        try (Connection reader = fleet.connect(schema); Statement s = reader.createStatement()) {
            reader.setAutoCommit(false);
            s.executeQuery("SELECT * FROM big LIMIT 1").close();
            first = RunnerProcess.start(fleet, "first");
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                assertThat(first.alive()).as(first.output()).isTrue();
                return fleet.shardCount("SELECT COUNT(*) FROM information_schema.PROCESSLIST"
                        + " WHERE INFO LIKE 'RENAME TABLE%_big_new%'") > 0;
            });
            assertThat(phase(fleet)).isEqualTo("cutting over");
            first.kill();
            reader.commit();
        }
        Cli.Result second = cli(fleet, "run", "--json");
        assertThat(second.exit()).as(second.all()).isZero();
        assertAltered(fleet);
    }
}
