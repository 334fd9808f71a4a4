package io.shardschema.cli;

import io.shardschema.config.DataSources;
import io.shardschema.config.Dsn;
import io.shardschema.testing.Cli;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;

/** Catalog and shards reached over the server's unix socket, in both DSN forms. */
class UnixSocketTest {
    private static final String SECRET = "Sock-pw-4Rt";

    @Test
    void catalogAndShardsWorkOverAUnixSocket() throws Exception {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "socket", 2);
        String socket = fleet.column("SELECT @@socket").get(0);
        // 'localhost' is the host of socket logins only: this user cannot log in over TCP.
        fleet.execute("CREATE USER IF NOT EXISTS 'ss_sock'@'localhost' IDENTIFIED BY '" + SECRET + "'");
        fleet.execute("GRANT ALL ON *.* TO 'ss_sock'@'localhost'");
        fleet.set("dbDSN", "ss_sock:" + SECRET + "@unix(" + socket + ")/" + fleet.prefix + "_catalog");

        Cli.Result discover = Cli.run(fleet.configFile, "shard", "discover", "--dsn", "ss_sock@unix(" + socket + ")/",
                "--like", fleet.prefix + "\\_s%");
        assertThat(discover.exit()).as(discover.all()).isZero();
        assertThat(discover.out()).contains("registered 2 shards on unix:" + socket);
        fleet.addVersion("t", "ADD COLUMN over_socket INT");
        // The runner finds the shards' password as the catalog's: same server (the socket), same user.
        Cli.Result run = Cli.run(fleet.configFile, "run");
        assertThat(run.exit()).as(run.all()).isZero();
        assertThat(run.all()).doesNotContain(SECRET);
        assertThat(fleet.count("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA LIKE '"
                + fleet.prefix + "\\_s%' AND COLUMN_NAME = 'over_socket'")).isEqualTo(2);

        Dsn jdbc = Dsn.parse("jdbc:mariadb://localhost/" + fleet.schemas.get(0) + "?localSocket=" + socket
                + "&user=ss_sock&password=" + SECRET);
        try (Connection c = DataSources.connect(jdbc); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT CURRENT_USER(), DATABASE()")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("ss_sock@localhost");
            assertThat(rs.getString(2)).isEqualTo(fleet.schemas.get(0));
        }
    }
}
