package io.shardschema.online;

import com.fasterxml.jackson.databind.JsonNode;
import io.shardschema.embedded.MariaDbServer;
import io.shardschema.runner.ThrottleControl;
import io.shardschema.testing.Cli;
import io.shardschema.testing.TestTools;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static io.shardschema.online.OnlineLifecycleTest.cat;
import static io.shardschema.online.OnlineLifecycleTest.cli;
import static io.shardschema.online.OnlineLifecycleTest.phase;
import static io.shardschema.online.OnlineLifecycleTest.tables;
import static io.shardschema.online.OnlineLifecycleTest.triggers;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Throttling a running copy, credentials kept out of pt-osc's command line, and pt-osc's failures. */
class OnlineControlTest {
    private static final String SECRET = "Pt-osc-secret-9";

    @BeforeAll
    static void ptOsc() {
        TestTools.ensurePtOsc();
    }

    @Test
    void pauseStopsTheCopyItselfAndThePasswordNeverShowsInPs() throws Exception {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "pause", 1);
        String schema = fleet.schemas.get(0);
        fleet.execute("CREATE USER IF NOT EXISTS 'ptuser'@'127.0.0.1' IDENTIFIED BY '" + SECRET + "'");
        fleet.execute("GRANT ALL ON *.* TO 'ptuser'@'127.0.0.1'");
        Path options = Files.writeString(fleet.dir.resolve("my.cnf"), "[client]\nuser=ptuser\npassword=" + SECRET + "\n");
        fleet.set("defaultsFile", options.toString());
        fleet.set("defaultsFileHosts", "127.0.0.1:" + fleet.server.port());
        Cli.Result add = cli(fleet, "shard", "add", "--schema", schema, "--dsn",
                "ptuser:" + SECRET + "@tcp(127.0.0.1:" + fleet.server.port() + ")/");
        assertThat(add.exit()).as(add.all()).isZero();
        try (Connection c = fleet.connect(schema); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE big (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(40) NOT NULL)");
            s.execute("INSERT INTO big (v) SELECT CONCAT('row', seq) FROM seq_1_to_100000");
            // Fresh statistics: pt-osc copies a table it believes small in one chunk.
            s.execute("ANALYZE TABLE big");
        }
        assertThat(cli(fleet, "version", "add", "--type", "pt-osc", "--auto-approve", "--table", "big", "--command",
                "ADD COLUMN z INT", "--option", "chunk-size=500", "--option", "chunk-time=0", "--option", "sleep=0.05").exit()).isZero();

        CompletableFuture<Cli.Result> run = Cli.start(fleet.configFile, "run");
        String shadow = "`" + schema + "`._big_new";
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> tables(fleet, schema).contains("_big_new")
                && fleet.shardCount("SELECT COUNT(*) FROM " + shadow) > 0);

        List<String> commandLines = ptOscCommandLines();
        assertThat(commandLines).isNotEmpty().noneMatch(cmd -> cmd.contains(SECRET));
        Path optionFile = Path.of(commandLines.get(0).replaceAll("(?s).*--defaults-file=(\\S+).*", "$1"));
        assertThat(Files.getPosixFilePermissions(optionFile))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

        // The copy's progress, as pt-osc reports it (every 2 s), reaches the task: shown by status and log.
        await().atMost(Duration.ofSeconds(10)).until(() -> !fleet.column("SELECT COALESCE(progress, '') FROM "
                + cat(fleet) + ".online").get(0).isEmpty());
        assertThat(cli(fleet, "status").out()).containsPattern("version 1 online: 1 copying \\(mean \\d+%");
        assertThat(cli(fleet, "log", "--shard", "1").out()).containsPattern("online: " + java.util.regex.Pattern.quote("shard 1 (" + schema + "@" + fleet.serverKey() + ")")
                + " version 1: copying: \\d+%")
                .containsPattern("table ~\\d+ rows");
        JsonNode task = cli(fleet, "log", "--shard", "1", "--json").json().path("online").get(0);
        assertThat(task.path("shardId").asLong()).isEqualTo(1);
        assertThat(task.path("schema").asText()).isEqualTo(schema);
        assertThat(task.path("server").asText()).isEqualTo(fleet.serverKey());

        ThrottleControl.write(fleet.dir.resolve("throttle"), "pause");
        Thread.sleep(3000);
        int atPause = fleet.shardCount("SELECT COUNT(*) FROM " + shadow);
        Thread.sleep(4000);
        assertThat(fleet.shardCount("SELECT COUNT(*) FROM " + shadow)).as("no rows copied while paused").isEqualTo(atPause);
        assertThat(atPause).isLessThan(100_000);

        ThrottleControl.remove(fleet.dir.resolve("throttle"));
        // pt-osc 3.2 looks at its pause file once a minute.
        Cli.Result done = run.get(150, TimeUnit.SECONDS);
        assertThat(done.exit()).as(done.all()).isZero();
        assertThat(phase(fleet)).isEqualTo("awaiting cut-over");
        assertThat(fleet.shardCount("SELECT COUNT(*) FROM " + shadow)).isEqualTo(100_000);
        assertThat(Files.exists(optionFile)).as("option file removed").isFalse();

        assertThat(done.all()).doesNotContain(SECRET);
        assertThat(fleet.column("SELECT CONCAT_WS(' ', message, executed, output, err) FROM " + cat(fleet) + ".log"))
                .isNotEmpty().noneMatch(row -> row.contains(SECRET)).anyMatch(row -> row.contains("Sleeping"));
        try (Stream<Path> logs = Files.list(fleet.dir.resolve("logs"))) {
            for (Path log : logs.toList()) {
                assertThat(Files.readString(log)).as(log.toString()).doesNotContain(SECRET);
            }
        }
    }

    @Test
    void ptOscsDryRunRefusalsEndAsRefusedRunsWithPtOscsOwnError() {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "ptfail", 1);
        fleet.set("maxRuns", "1");
        fleet.registerAll();
        assertThat(cli(fleet, "version", "add", "--type", "pt-osc", "--table", "t", "--command",
                "ADD COLUMN v INT").exit()).as("the preflight refuses it").isEqualTo(4);
        // Registered without a preflight, pt-osc meets the error itself.
        assertThat(cli(fleet, "version", "add", "--no-preflight", "--type", "pt-osc", "--table", "t", "--command",
                "ADD COLUMN v INT").exit()).isZero();
        assertThat(cli(fleet, "run").exit()).as("the same every time: refused, not failed").isEqualTo(4);
        assertThat(fleet.column("SELECT state FROM " + cat(fleet) + ".log")).containsExactly("refused");
        assertThat(fleet.column("SELECT err FROM " + cat(fleet) + ".log").get(0)).contains("Duplicate column name 'v'");

        TestFleet missing = TestFleet.create(TestServers.shared(), "ptmiss", 1);
        missing.set("maxRuns", "1");
        missing.registerAll();
        assertThat(cli(missing, "version", "add", "--no-preflight", "--type", "pt-osc", "--table", "nosuch",
                "--command", "ADD COLUMN z INT").exit()).isZero();
        assertThat(cli(missing, "run").exit()).isEqualTo(4);
        assertThat(missing.column("SELECT err FROM " + cat(missing) + ".log").get(0))
                .contains("`" + missing.schemas.get(0) + "`.`nosuch`").contains("does not exist");
    }

    @Test
    void aServerThatDiesDuringTheCopyFailsTheRunWithPtOscsError() throws Exception {
        MariaDbServer shards = TestServers.fresh("ptgone");
        TestFleet fleet = TestFleet.create(TestServers.shared(), shards, "ptgone", 1);
        fleet.set("maxRuns", "1");
        fleet.registerAll();
        String schema = fleet.schemas.get(0);
        try (Connection c = fleet.connect(schema); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE big (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(40) NOT NULL)");
            s.execute("INSERT INTO big (v) SELECT CONCAT('row', seq) FROM seq_1_to_50000");
            // Fresh statistics: pt-osc copies a table it believes small in one chunk.
            s.execute("ANALYZE TABLE big");
        }
        assertThat(cli(fleet, "version", "add", "--type", "pt-osc", "--auto-approve", "--table", "big", "--command",
                "ADD COLUMN z INT", "--option", "chunk-size=500", "--option", "chunk-time=0", "--option", "sleep=0.05").exit()).isZero();
        CompletableFuture<Cli.Result> run = Cli.start(fleet.configFile, "run");
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> tables(fleet, schema).contains("_big_new")
                && fleet.shardCount("SELECT COUNT(*) FROM `" + schema + "`._big_new") > 0);
        shards.kill();
        Cli.Result done = run.get(120, TimeUnit.SECONDS);
        assertThat(done.exit()).as(done.all()).isEqualTo(3);
        String err = fleet.column("SELECT err FROM " + cat(fleet) + ".log").get(0);
        assertThat(err).containsAnyOf("Lost connection", "MySQL server has gone away", "Can't connect", "Error copying rows");

        shards.restart();
        assertThat(triggers(fleet, schema)).as("leftovers wait for the retry").isEqualTo(3);
        assertThat(cli(fleet, "retry", "--all").exit()).isZero();
        Cli.Result again = cli(fleet, "run");
        assertThat(again.exit()).as(again.all()).isZero();
        assertThat(phase(fleet)).isEqualTo("awaiting cut-over");
        assertThat(fleet.shardCount("SELECT COUNT(*) FROM `" + schema + "`._big_new")).isEqualTo(50_000);
    }

    @Test
    void atMostOneOnlineChangeRunsPerServer() throws Exception {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "oneper", 3);
        fleet.registerAll();
        for (String schema : fleet.schemas) {
            try (Connection c = fleet.connect(schema); Statement s = c.createStatement()) {
                s.execute("INSERT INTO t SELECT seq, CONCAT('r', seq) FROM seq_4_to_6000");
                s.execute("ANALYZE TABLE t");
            }
        }
        assertThat(cli(fleet, "version", "add", "--type", "pt-osc", "--auto-approve", "--auto-cutover", "--table",
                "t", "--command", "ADD COLUMN z INT", "--option", "chunk-size=200", "--option", "chunk-time=0",
                "--option", "sleep=0.05").exit()).isZero();
        CompletableFuture<Cli.Result> run = Cli.start(fleet.configFile, "run", "--workers", "3");
        int most = 0;
        int samples = 0;
        while (!run.isDone()) {
            // Copies under way right now: schemas with a pt-osc shadow table being filled.
            int copying = fleet.shardCount("SELECT COUNT(DISTINCT TABLE_SCHEMA) FROM information_schema.TABLES"
                    + " WHERE TABLE_SCHEMA LIKE '" + fleet.prefix + "\\_s%' AND TABLE_NAME = '_t_new'");
            most = Math.max(most, copying);
            samples++;
            Thread.sleep(100);
        }
        Cli.Result done = run.get();
        assertThat(done.exit()).as(done.all()).isZero();
        assertThat(samples).as("the rollout took long enough to watch").isGreaterThan(20);
        assertThat(most).as("shadow tables at once").isEqualTo(1);
        for (String schema : fleet.schemas) {
            assertThat(OnlineLifecycleTest.columns(fleet, schema, "t")).containsExactly("id", "v", "z");
        }
    }

    /** The command lines of running pt-online-schema-change processes, as ps shows them. */
    private static List<String> ptOscCommandLines() throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String cmd = new String(Files.readAllBytes(p.resolve("cmdline"))).replace('\0', ' ');
                    if (cmd.contains("pt-online-schema-change") && cmd.contains("--alter")) {
                        out.add(cmd);
                    }
                } catch (IOException gone) {
                    // the process ended meanwhile
                }
            }
        }
        return out;
    }
}
