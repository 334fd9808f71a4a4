package io.shardschema.runner;

import io.shardschema.schema.Sql;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * A table's own triggers (not pt-osc's) through an online change. pt-osc copies with them in place
 * (--preserve-triggers, stopped after the copy); the cut-over moves them to the shadow table and swaps while
 * writers wait, so every write fires them once, on the old table before the swap or on the new one after it.
 */
final class TableTriggers {
    /** One trigger as the server keeps it, with the session settings it was created under. */
    record Trigger(String name, String timing, String event, String body, String definer, String sqlMode,
                   String collationConnection) {
        /** Its CREATE TRIGGER, on {@code table}. */
        String create(String table) {
            int at = definer.lastIndexOf('@');
            String who = at < 0 ? "" : " DEFINER=" + Sql.quote(definer.substring(0, at)) + "@"
                    + Sql.quote(definer.substring(at + 1));
            return "CREATE" + who + " TRIGGER " + Sql.quote(name) + " " + timing + " " + event + " ON "
                    + Sql.quote(table) + " FOR EACH ROW " + body;
        }
    }

    private TableTriggers() {
    }

    /** The table's triggers other than pt-osc's, in the order they fire for each event. */
    static List<Trigger> read(Connection c, String schema, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT TRIGGER_NAME, ACTION_TIMING, EVENT_MANIPULATION,"
                + " ACTION_STATEMENT, DEFINER, SQL_MODE, COLLATION_CONNECTION"
                + " FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = ? AND EVENT_OBJECT_TABLE = ?"
                + " AND TRIGGER_NAME NOT LIKE 'pt\\_osc\\_%' ORDER BY ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER")) {
            ps.setString(1, schema);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                List<Trigger> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(new Trigger(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            rs.getString(5), rs.getString(6), rs.getString(7)));
                }
                return out;
            }
        }
    }

    /**
     * Moves {@code triggers} from {@code table} to {@code shadow} and swaps the two ({@code table} becomes
     * {@code old}), so that no write meets the table without its triggers: {@code c} write-locks both tables and
     * moves each trigger (created under its own sql_mode and collation; its client character set becomes the
     * connection's, utf8mb4, in which the driver sends the body); {@code renamer}, a second session, then asks for
     * the RENAME, which waits for the lock; once it is seen waiting, the unlock lets it run before the writers that
     * wait too (the server grants a waiting exclusive lock first). A runner killed meanwhile releases the lock with
     * every trigger moved, or before the RENAME was asked for (the next run moves the rest).
     */
    static void moveAndSwap(Connection c, Connection renamer, String table, String shadow, String old,
                            List<Trigger> triggers) throws SQLException, InterruptedException {
        String rename = "RENAME TABLE " + Sql.quote(table) + " TO " + Sql.quote(old) + ", " + Sql.quote(shadow)
                + " TO " + Sql.quote(table);
        java.util.concurrent.CompletableFuture<Void> renamed;
        try (Statement s = c.createStatement();
             PreparedStatement session = c.prepareStatement("SET SESSION sql_mode = ?, collation_connection = ?")) {
            // The body goes to the server as written: the driver's {escape} rewriting would change it.
            s.setEscapeProcessing(false);
            s.execute("SET @shardschema_sql_mode = @@SESSION.sql_mode,"
                    + " @shardschema_collation = @@SESSION.collation_connection");
            s.execute("LOCK TABLES " + Sql.quote(table) + " WRITE, " + Sql.quote(shadow) + " WRITE");
            try {
                for (Trigger t : triggers) {
                    session.setString(1, t.sqlMode());
                    session.setString(2, t.collationConnection());
                    session.execute();
                    s.execute("DROP TRIGGER " + Sql.quote(t.name()));
                    s.execute(t.create(shadow));
                }
                long renamerId = renamer.unwrap(org.mariadb.jdbc.Connection.class).getThreadId();
                renamed = java.util.concurrent.CompletableFuture.runAsync(() -> {
                    try (Statement r = renamer.createStatement()) {
                        r.execute(rename);
                    } catch (SQLException e) {
                        throw new java.util.concurrent.CompletionException(e);
                    }
                });
                awaitWaiting(c, renamerId, renamed);
            } finally {
                s.execute("UNLOCK TABLES");
                s.execute("SET SESSION sql_mode = @shardschema_sql_mode,"
                        + " collation_connection = @shardschema_collation");
            }
        }
        try {
            renamed.get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof SQLException sql ? sql : new SQLException(e.getCause());
        }
    }

    /** Until the renaming session waits for the lock (or ended, or 10 s passed: then it runs after the unlock). */
    private static void awaitWaiting(Connection c, long id, java.util.concurrent.Future<?> renamed)
            throws SQLException, InterruptedException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM information_schema.PROCESSLIST"
                + " WHERE ID = ? AND STATE = 'Waiting for table metadata lock'")) {
            ps.setLong(1, id);
            for (int i = 0; i < 200 && !renamed.isDone(); i++) {
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        return;
                    }
                }
                Thread.sleep(50);
            }
        }
    }
}
