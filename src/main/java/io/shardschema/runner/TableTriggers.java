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
        List<Trigger> out = new ArrayList<>();
        for (Trigger t : all(c, schema, table)) {
            if (!isPtOscs(t.name())) {
                out.add(t);
            }
        }
        return out;
    }

    /** The names of pt-osc's triggers on the table. */
    static List<String> ptOscs(Connection c, String schema, String table) throws SQLException {
        return all(c, schema, table).stream().map(Trigger::name).filter(TableTriggers::isPtOscs).toList();
    }

    private static boolean isPtOscs(String name) {
        return name.startsWith("pt_osc_");
    }

    private static List<Trigger> all(Connection c, String schema, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT TRIGGER_NAME, ACTION_TIMING, EVENT_MANIPULATION,"
                + " ACTION_STATEMENT, DEFINER, SQL_MODE, COLLATION_CONNECTION FROM information_schema.TRIGGERS"
                + " WHERE EVENT_OBJECT_SCHEMA = ? AND EVENT_OBJECT_TABLE = ?"
                + " ORDER BY ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER")) {
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
     * Moves {@code triggers} from {@code table} to {@code shadow} and swaps the two ({@code rename}), so that no write meets the table without its triggers: {@code c} write-locks both tables and
     * moves each trigger; {@code renamer}, a second session, then asks for the RENAME, which waits for the lock;
     * once it is seen waiting, the unlock lets it run before the writers that wait too (the server grants a waiting
     * exclusive lock first). If the RENAME failed meanwhile, the triggers go back before the unlock. A runner
     * killed meanwhile releases the lock with every trigger moved and the RENAME asked for, or before that (the
     * next run moves the rest, or {@link #restore} brings them back).
     */
    static void moveAndSwap(Connection c, Connection renamer, String table, String shadow, String rename,
                            List<Trigger> triggers) throws SQLException, InterruptedException {
        long renamerId;
        try (Statement r = renamer.createStatement(); ResultSet rs = r.executeQuery("SELECT CONNECTION_ID()")) {
            rs.next();
            renamerId = rs.getLong(1);
        }
        java.util.concurrent.CompletableFuture<Void> renamed = new java.util.concurrent.CompletableFuture<>();
        try (Locked locked = new Locked(c, table, shadow)) {
            locked.move(triggers, shadow);
            Thread thread = new Thread(() -> {
                try (Statement r = renamer.createStatement()) {
                    r.execute(rename);
                    renamed.complete(null);
                } catch (SQLException e) {
                    renamed.completeExceptionally(e);
                }
            }, "cutover-rename");
            thread.setDaemon(true);
            thread.start();
            awaitWaiting(c, renamerId, renamed);
            if (renamed.isCompletedExceptionally()) {
                locked.move(triggers, table);
            }
        }
        try {
            renamed.get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof SQLException sql ? sql : new SQLException(e.getCause());
        }
    }

    /**
     * Brings triggers of the table's own that an interrupted cut-over left on {@code shadow} back to
     * {@code table}, before the shadow table goes (they would go with it).
     */
    static void restore(Connection c, String table, String shadow) throws SQLException {
        // pt-osc tries each trigger on the shadow table under a random name and drops it again: one it left (it
        // was killed meanwhile) has its twin on the table and goes with the shadow table.
        List<Trigger> onTable = read(c, c.getCatalog(), table);
        List<Trigger> stranded = read(c, c.getCatalog(), shadow).stream().filter(t -> onTable.stream()
                .noneMatch(o -> o.timing().equals(t.timing()) && o.event().equals(t.event())
                        && o.body().equals(t.body()))).toList();
        if (!stranded.isEmpty()) {
            try (Locked locked = new Locked(c, table, shadow)) {
                locked.move(stranded, table);
            }
        }
    }

    /** Both tables write-locked by {@code c}; unlocked (and the session's settings back) on close. */
    private static final class Locked implements AutoCloseable {
        private final Statement s;
        private final PreparedStatement session;

        Locked(Connection c, String table, String shadow) throws SQLException {
            s = c.createStatement();
            session = c.prepareStatement("SET SESSION sql_mode = ?, collation_connection = ?");
            // A body goes to the server as written: the driver's {escape} rewriting would change it.
            s.setEscapeProcessing(false);
            s.execute("SET @shardschema_sql_mode = @@SESSION.sql_mode,"
                    + " @shardschema_collation = @@SESSION.collation_connection");
            s.execute("LOCK TABLES " + Sql.quote(table) + " WRITE, " + Sql.quote(shadow) + " WRITE");
        }

        /**
         * Each trigger dropped and created again on {@code to}, under its own sql_mode and collation (its client
         * character set becomes the connection's, utf8mb4, in which the driver sends the body).
         */
        void move(List<Trigger> triggers, String to) throws SQLException {
            for (Trigger t : triggers) {
                session.setString(1, t.sqlMode());
                session.setString(2, t.collationConnection());
                session.execute();
                s.execute("DROP TRIGGER " + Sql.quote(t.name()));
                s.execute(t.create(to));
            }
        }

        @Override
        public void close() throws SQLException {
            try (s; session) {
                s.execute("UNLOCK TABLES");
                s.execute("SET SESSION sql_mode = @shardschema_sql_mode,"
                        + " collation_connection = @shardschema_collation");
            }
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
