package io.shardschema.runner;

import io.shardschema.config.DataSources;
import io.shardschema.embedded.MariaDbServer;
import io.shardschema.testing.TestServers;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Which errors of a sent statement mean "the server refused it, nothing changed", on a real server: only those
 * may end a run failed; a statement that was ended (KILL) may have committed as the kill came.
 */
class StatementOutcomeTest {
    private final MariaDbServer server = TestServers.shared();

    @Test
    void aStatementTheServerRefusedChangedNothing() throws Exception {
        try (Connection c = DataSources.connect(server.rootDsn(null)); Statement s = c.createStatement()) {
            SQLException e = catchThrowableOfType(SQLException.class,
                    () -> s.execute("ALTER TABLE mysql.no_such_table_here ADD COLUMN x INT"));
            assertThat(TaskWorker.refused(e)).as(e.toString()).isTrue();
        }
    }

    @Test
    void aKilledStatementOrSessionIsNotARefusal() throws Exception {
        for (String kill : new String[]{"KILL QUERY ", "KILL CONNECTION "}) {
            try (Connection victim = DataSources.connect(server.rootDsn(null));
                 Connection killer = DataSources.connect(server.rootDsn(null)); Statement k = killer.createStatement()) {
                long id;
                try (Statement s = victim.createStatement(); ResultSet rs = s.executeQuery("SELECT CONNECTION_ID()")) {
                    rs.next();
                    id = rs.getLong(1);
                }
                Thread sleeper = new Thread(() -> {
                    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> running(killer, id));
                    try {
                        k.execute(kill + id);
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                });
                sleeper.start();
                SQLException e = catchThrowableOfType(SQLException.class, () -> {
                    try (Statement s = victim.createStatement()) {
                        s.executeQuery("SELECT COUNT(*) FROM mysql.seq_1_to_100000000000 WHERE seq % 7 = 3");
                    }
                });
                sleeper.join();
                assertThat((Throwable) e).as(kill + "did not break the statement off").isNotNull();
                assertThat(TaskWorker.refused(e)).as(kill + e).isFalse();
            }
        }
    }

    private static boolean running(Connection c, long id) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = " + id + " AND INFO LIKE 'SELECT COUNT(*) FROM mysql.seq%'")) {
            rs.next();
            return rs.getInt(1) == 1;
        }
    }
}
