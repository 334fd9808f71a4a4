package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.config.DataSources;
import io.shardschema.config.Dsn;
import io.shardschema.testing.Cli;
import io.shardschema.testing.FakeMysqlServer;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The fleet's password goes only where the DBA said it may: the defaultsFile password to the servers of
 * defaultsFileHosts, and no password, to any server, through an authentication method that sends it in clear.
 */
class CredentialsTest {
    private static final String SECRET = "Ddl-pw-7Xq";

    private static TestFleet fleetWithDefaultsFile(String name) throws Exception {
        TestFleet fleet = TestFleet.create(TestServers.shared(), name, 1);
        fleet.execute("CREATE USER IF NOT EXISTS 'ss_ddl'@'127.0.0.1' IDENTIFIED BY '" + SECRET + "'");
        fleet.execute("GRANT ALL ON *.* TO 'ss_ddl'@'127.0.0.1'");
        Path options = Files.writeString(fleet.dir.resolve("my.cnf"), "[client]\nuser=ss_ddl\npassword=" + SECRET + "\n");
        fleet.set("defaultsFile", options.toString());
        fleet.set("maxRuns", "1");
        return fleet;
    }

    private static Cli.Result run(TestFleet fleet, String... args) {
        Cli.Result r = Cli.run(fleet.configFile, args);
        assertThat(r.all()).doesNotContain(SECRET);
        return r;
    }

    @Test
    void theDefaultsFilePasswordGoesOnlyToTheServersListed() throws Exception {
        TestFleet fleet = fleetWithDefaultsFile("pwhosts");
        String real = "tcp(127.0.0.1:" + fleet.server.port() + ")/";
        try (FakeMysqlServer fake = new FakeMysqlServer("dialog")) {
            String fakeServer = "tcp(127.0.0.1:" + fake.port() + ")/";

            Cli.Result unlisted = run(fleet, "shard", "add", "--schema", fleet.schemas.get(0), "--dsn", real);
            assertThat(unlisted.exit()).as(unlisted.all()).isEqualTo(2);
            assertThat(unlisted.err()).contains("server 127.0.0.1:" + fleet.server.port() + " is not in defaultsFileHosts");

            fleet.set("defaultsFileHosts", "localhost, 127.0.0.1:" + fleet.server.port());
            Cli.Result toFake = run(fleet, "shard", "add", "--schema", "victim", "--dsn", fakeServer);
            assertThat(toFake.exit()).as(toFake.all()).isEqualTo(2);
            assertThat(toFake.err()).contains("defaultsFileHosts");
            Cli.Result listed = run(fleet, "shard", "add", "--schema", fleet.schemas.get(0), "--dsn", real);
            assertThat(listed.exit()).as(listed.all()).isZero();

            // A shard row pointing at the fake server (registered unchecked, or written into the catalog).
            assertThat(run(fleet, "shard", "add", "--no-check", "--schema", "victim", "--dsn", fakeServer).exit()).isZero();
            fleet.addVersion("t", "ADD COLUMN c INT");
            Cli.Result rollout = run(fleet, "run");
            assertThat(rollout.exit()).as(rollout.all()).isEqualTo(3);
            assertThat(fleet.column("SELECT err FROM `" + fleet.prefix + "_catalog`.log WHERE shardId = 2"))
                    .singleElement().asString().contains("is not in defaultsFileHosts");
            assertThat(fleet.count("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '"
                    + fleet.schemas.get(0) + "' AND COLUMN_NAME = 'c'")).isEqualTo(1);
            assertThat(fake.connections()).as("nothing connected to the unlisted server").isZero();
        }
        Path badList = Files.writeString(fleet.dir.resolve("bad.cnf"), "defaultsFileHosts=db1,h=db2\n");
        Cli.Result bad = Cli.run(badList, "status");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("defaultsFileHosts: 'h=db2' is not host");
    }

    @Test
    void noPasswordAnswersAnAuthSwitchToACleartextMethod() throws Exception {
        for (String method : new String[]{"dialog", "mysql_clear_password"}) {
            try (FakeMysqlServer fake = new FakeMysqlServer(method)) {
                Dsn dsn = Dsn.parse("ss_ddl:" + SECRET + "@tcp(127.0.0.1:" + fake.port() + ")/");
                assertThatThrownBy(() -> DataSources.connect(dsn).close()).as(method)
                        .isInstanceOf(ShardSchemaException.class).hasMessageNotContaining(SECRET);
                assertThat(fake.connections()).isEqualTo(1);
                assertThat(fake.received()).as(method).contains("ss_ddl").doesNotContain(SECRET);
            }
        }
        // Through the product's own path: a listed server that turns out to be a fake gets nothing either.
        TestFleet fleet = fleetWithDefaultsFile("pwswitch");
        try (FakeMysqlServer fake = new FakeMysqlServer("dialog")) {
            fleet.set("defaultsFileHosts", "127.0.0.1");
            Cli.Result add = run(fleet, "shard", "add", "--schema", "victim", "--dsn", "tcp(127.0.0.1:" + fake.port() + ")/");
            assertThat(add.exit()).isEqualTo(1);
            assertThat(add.err()).contains("restrictedAuth");
            assertThat(fake.received()).contains("ss_ddl").doesNotContain(SECRET);
        }
    }

    @Test
    void aDsnMayAllowACleartextMethodItself() throws Exception {
        // The DSN's own restrictedAuth wins (and shows that the fake server does collect what it is sent).
        try (FakeMysqlServer fake = new FakeMysqlServer("dialog")) {
            Dsn dsn = Dsn.parse("ss_ddl:" + SECRET + "@tcp(127.0.0.1:" + fake.port()
                    + ")/?restrictedAuth=mysql_native_password,dialog");
            assertThatThrownBy(() -> {
                try (Connection c = DataSources.connect(dsn)) {
                    c.isValid(1);
                }
            }).isInstanceOf(ShardSchemaException.class).hasMessageContaining("Access denied (fake server)");
            assertThat(fake.received()).contains(SECRET);
        }
    }
}
