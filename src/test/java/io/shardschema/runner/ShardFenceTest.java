package io.shardschema.runner;

import io.shardschema.config.DataSources;
import io.shardschema.config.Dsn;
import io.shardschema.embedded.MariaDbServer;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The shard-side fence against sessions that hold it, on a real server: end the idle, wait for the executing. */
class ShardFenceTest {
    private final MariaDbServer server = TestServers.shared();
    private final String fence = LockNames.task(UUID.randomUUID().toString(), 1);

    @Test
    void anIdleSessionHoldingTheFenceIsEndedSoItCanSendNothingMore() throws Exception {
        try (Connection earlier = DataSources.connect(server.rootDsn(null));
             Connection next = DataSources.connect(server.rootDsn(null))) {
            lock(earlier);

            long session = ShardFence.take(next, fence, "ALTER TABLE `t` ADD COLUMN x INT", () -> true);

            assertThat(session).isEqualTo(id(next));
            assertThat(earlier.isValid(2)).as("the idle holder's session was ended").isFalse();
        }
    }

    @Test
    void aSessionExecutingTheChangeIsWaitedForNotEnded() throws Exception {
        String statement = "SELECT SLEEP(2)";
        try (Connection earlier = DataSources.connect(server.rootDsn(null));
             Connection next = DataSources.connect(server.rootDsn(null))) {
            lock(earlier);
            CompletableFuture<Integer> executing = CompletableFuture.supplyAsync(() -> {
                try (Statement s = earlier.createStatement(); ResultSet rs = s.executeQuery(statement)) {
                    rs.next();
                    return rs.getInt(1);
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            awaitExecuting(statement);

            ShardFence.take(next, fence, statement, () -> true);

            // SLEEP answers 0 when it ran its course, 1 when its session was killed.
            assertThat(executing.get(10, TimeUnit.SECONDS)).as("the executing statement ran to its end").isZero();
        }
    }

    @Test
    void aSessionOfAnotherUserThatCannotBeEndedIsReportedNotIgnored() throws Exception {
        String other = "fence_" + UUID.randomUUID().toString().substring(0, 8);
        String runner = "fence_" + UUID.randomUUID().toString().substring(0, 8);
        try (Connection admin = DataSources.connect(server.rootDsn(null)); Statement s = admin.createStatement()) {
            for (String user : new String[]{other, runner}) {
                s.execute("CREATE USER '" + user + "'@'127.0.0.1' IDENTIFIED BY 'fence-test'");
            }
        }
        try (Connection earlier = DataSources.connect(Dsn.tcp(other, "fence-test", "127.0.0.1", server.port(), null));
             Connection next = DataSources.connect(Dsn.tcp(runner, "fence-test", "127.0.0.1", server.port(), null))) {
            lock(earlier);

            // The runner cannot see the other user's session (no PROCESS) nor end it: it must not go on.
            assertThatThrownBy(() -> ShardFence.take(next, fence, "ALTER TABLE `t` ADD COLUMN x INT", () -> true))
                    .isInstanceOf(ShardFence.NotTaken.class)
                    .hasMessageContaining("belongs to another user")
                    .hasMessageContaining("KILL " + id(earlier));
            assertThat(earlier.isValid(2)).isTrue();
        } finally {
            try (Connection admin = DataSources.connect(server.rootDsn(null)); Statement s = admin.createStatement()) {
                for (String user : new String[]{other, runner}) {
                    s.execute("DROP USER IF EXISTS '" + user + "'@'127.0.0.1'");
                }
            }
        }
    }

    @Test
    void aLeaseLostWhileWaitingStopsTheWait() throws Exception {
        String statement = "SELECT SLEEP(5)";
        try (Connection earlier = DataSources.connect(server.rootDsn(null));
             Connection next = DataSources.connect(server.rootDsn(null))) {
            lock(earlier);
            CompletableFuture.runAsync(() -> {
                try (Statement s = earlier.createStatement()) {
                    s.executeQuery(statement).close();
                } catch (SQLException ignored) {
                    // ended with the test
                }
            });
            awaitExecuting(statement);

            assertThatThrownBy(() -> ShardFence.take(next, fence, statement, () -> false))
                    .isInstanceOf(ShardFence.NotTaken.class).hasMessageContaining("lease was lost");
        }
    }

    /** Waits until a session executes {@code statement}. */
    private void awaitExecuting(String statement) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(() -> {
            try (Connection c = DataSources.connect(server.rootDsn(null)); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = '"
                         + statement + "'")) {
                rs.next();
                return rs.getInt(1) == 1;
            }
        });
    }

    private void lock(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT GET_LOCK('" + fence + "', 0)")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(1);
        }
    }

    private static long id(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT CONNECTION_ID()")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
