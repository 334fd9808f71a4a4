package io.shardschema.cli;

import io.shardschema.testing.Cli;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Bad input gets a clear message and the documented exit code, writes nothing, and never shows a password. */
class BadInputTest {
    private static final String SECRET = "Zq9-not-for-logs";
    private static TestFleet fleet;

    @BeforeAll
    static void fleet() {
        fleet = TestFleet.create(TestServers.shared(), "bad", 2);
    }

    private static String cat() {
        return "`" + fleet.prefix + "_catalog`";
    }

    private static Cli.Result run(String... args) {
        Cli.Result r = Cli.run(fleet.configFile, args);
        assertThat(r.all()).doesNotContain(SECRET);
        return r;
    }

    @Test
    void malformedDsnOnTheCommandLine() {
        Cli.Result r = run("shard", "add", "--schema", fleet.schemas.get(0), "--dsn", "root:" + SECRET + "@tcp(127.0.0.1:port)/");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("malformed DSN").contains("port 'port' is not a number").contains("root:***@");
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat() + ".shards")).isZero();
    }

    @Test
    void malformedDsnInTheConfig() throws IOException {
        Path cfg = Files.writeString(fleet.dir.resolve("broken.cnf"), "dbDSN=root:" + SECRET + "@tcp(127.0.0.1/x\n");
        Cli.Result r = Cli.run(cfg, "status");
        assertThat(r.all()).doesNotContain(SECRET);
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("malformed DSN");
    }

    @Test
    void unknownConfigKey() throws IOException {
        Path cfg = Files.writeString(fleet.dir.resolve("unknown.cnf"), "workers=2\nthrottleFile=/tmp/x\n");
        Cli.Result r = Cli.run(cfg, "status");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("line 2").contains("unknown key 'throttleFile'");
    }

    @Test
    void unreachableShardIsNotRegistered() {
        Cli.Result r = run("shard", "add", "--schema", "x", "--dsn", "root@tcp(127.0.0.1:1)/");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("cannot connect to root@tcp(127.0.0.1:1)");
        Cli.Result missing = run("shard", "add", "--schema", "no_such_schema_here", "--dsn",
                fleet.server.rootDsn(null).toString());
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains("schema no_such_schema_here does not exist");
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat() + ".shards")).isZero();
    }

    @Test
    void dsnTooLongForTheCatalogIsRefusedNotTruncated() {
        String longDsn = fleet.server.rootDsn(null) + "?loc=" + "x".repeat(2100);
        Cli.Result r = run("shard", "add", "--schema", fleet.schemas.get(0), "--dsn", longDsn);
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err()).contains("the catalog stores at most 2048");
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat() + ".shards")).isZero();
    }

    @Test
    void numbersBeyondTheirBoundsAreUsageErrors() throws IOException {
        Cli.Result purge = run("trash", "purge", "--older-than", "99999999999999999999d");
        assertThat(purge.exit()).as(purge.all()).isEqualTo(2);
        assertThat(purge.err()).contains("--older-than '99999999999999999999d' is more than 36500d");
        Cli.Result workers = run("run", "--workers", "100000");
        assertThat(workers.exit()).as(workers.all()).isEqualTo(2);
        assertThat(workers.err()).contains("--workers must be in 1..1024");
        Cli.Result throttle = run("throttle", "workers", "99999999999");
        assertThat(throttle.exit()).as(throttle.all()).isEqualTo(2);
        assertThat(throttle.err()).contains("N must be a whole number, at least 1").contains("at most 1024");
        Path cfg = Files.writeString(fleet.dir.resolve("heartbeat.cnf"), Files.readString(fleet.configFile)
                + "heartbeatSeconds=1000000000\n");
        Cli.Result heartbeat = Cli.run(cfg, "status");
        assertThat(heartbeat.exit()).as(heartbeat.all()).isEqualTo(2);
        assertThat(heartbeat.err()).contains("heartbeatSeconds = '1000000000' is not a whole number in 1..3600");
    }

    @Test
    void unknownShardId() {
        for (String[] args : new String[][]{{"shard", "remove", "98765"}, {"retry", "--shard", "98765"},
                {"log", "--shard", "98765"}}) {
            Cli.Result r = run(args);
            assertThat(r.exit()).as(String.join(" ", args)).isEqualTo(2);
            assertThat(r.err()).contains("unknown shard id 98765");
        }
    }

    @Test
    void badVersionsAreRefusedBeforeAnythingIsWritten() {
        Cli.Result empty = run("version", "add", "--table", "t", "--command", "  ;");
        assertThat(empty.exit()).isEqualTo(2);
        assertThat(empty.err()).contains("empty command");
        Cli.Result backtick = run("version", "add", "--table", "t`x", "--command", "ADD COLUMN c INT");
        assertThat(backtick.exit()).isEqualTo(2);
        assertThat(backtick.err()).contains("invalid table name 't`x'");
        Cli.Result malformed = run("version", "add", "--table", "t", "--command", "ADD COLUMN INT INT INT");
        assertThat(malformed.exit()).isEqualTo(2);
        assertThat(malformed.err()).contains("does not parse");
        Cli.Result doubled = run("version", "add", "--table", "t", "--command", "ALTER TABLE t ADD COLUMN c INT");
        assertThat(doubled.exit()).isEqualTo(2);
        assertThat(doubled.err()).contains("drop the leading 'ALTER TABLE");
        Cli.Result noFile = run("version", "add", "--table", "t", "--file", "/nonexistent/v.sql");
        assertThat(noFile.exit()).isEqualTo(2);
        Cli.Result usage = run("version", "add", "--table", "t");
        assertThat(usage.exit()).isEqualTo(2);
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat() + ".versions")).isZero();
    }

    @Test
    void wrongCatalogPassword() throws IOException {
        fleet.execute("CREATE USER IF NOT EXISTS 'ss_bad'@'127.0.0.1' IDENTIFIED BY 'Right-pw-1'");
        Path cfg = Files.writeString(fleet.dir.resolve("wrongpw.cnf"), "dbDSN=ss_bad:" + SECRET
                + "@tcp(127.0.0.1:" + fleet.server.port() + ")/" + fleet.prefix + "_catalog\n");
        Cli.Result r = Cli.run(cfg, "status");
        assertThat(r.all()).doesNotContain(SECRET);
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("cannot connect to ss_bad:***@tcp(127.0.0.1:").contains("Access denied");
    }

    @Test
    void aCatalogNotCreatedYetSaysToRunInit() throws IOException {
        Path cfg = Files.writeString(fleet.dir.resolve("nocatalog.cnf"), "dbDSN=root@tcp(127.0.0.1:"
                + fleet.server.port() + ")/" + fleet.prefix + "_never_made\n");
        Cli.Result r = Cli.run(cfg, "status");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("its database does not exist yet; run `shardschema init`");
    }

    @Test
    void passwordOfAShardDsnIsUsedButNeverStored() {
        fleet.execute("CREATE USER IF NOT EXISTS 'ss_shard'@'127.0.0.1' IDENTIFIED BY '" + SECRET + "'");
        fleet.execute("GRANT ALL ON *.* TO 'ss_shard'@'127.0.0.1'");
        Cli.Result r = Cli.run(fleet.configFile, "shard", "add", "--schema", fleet.schemas.get(1), "--dsn",
                "ss_shard:" + SECRET + "@tcp(127.0.0.1:" + fleet.server.port() + ")/");
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.err()).contains("not stored");
        assertThat(r.all()).doesNotContain(SECRET);
        assertThat(fleet.column("SELECT shardDSN FROM " + cat() + ".shards")).singleElement().asString()
                .startsWith("ss_shard@tcp(").doesNotContain(SECRET);
        assertThat(run("shard", "list").out()).contains("ss_shard@tcp(");
        assertThat(Cli.run(fleet.configFile, "shard", "remove", r.out().strip()).exit()).isZero();
    }
}
