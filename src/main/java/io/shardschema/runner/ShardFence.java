package io.shardschema.runner;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.function.BooleanSupplier;

/**
 * The fence of a task on its shard's server: a named lock that every run of the task holds on the session that may
 * execute the change, from before it records that it executes until it is done. The lease in the catalog says who
 * may work a task; only this lock stops a statement that a runner which lost its lease (frozen, partitioned, or
 * slow) still sends: a new run takes the lock first, and gets it only once every earlier run's session has ended
 * or let it go. A session holding it that is not executing the change is ended (KILL, allowed to the same user:
 * an idle session of a dead or frozen runner could still send the statement); one executing the change is waited
 * for (the server finishes a statement whether or not its client is alive, so its outcome is about to be known).
 */
final class ShardFence {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ShardFence.class);
    private static final int UNKNOWN_THREAD = 1094;
    private static final int NOT_OWNER = 1095;
    private static final long LOG_EVERY_NANOS = 60_000_000_000L;
    private static final int PROCESSLIST_TEXT_MAX = 65_535;

    /** Thrown when the fence cannot be taken: the lease was lost meanwhile, or an earlier session cannot be ended. */
    static final class NotTaken extends Exception {
        NotTaken(String message) {
            super(message);
        }
    }

    private ShardFence() {
    }

    /**
     * Takes the fence on {@code c}, first ending or waiting out any earlier session that holds it (see the class
     * comment); {@code statement} is the change as the earlier runs sent it. Returns this session's id on the server.
     */
    static long take(Connection c, String name, String statement, BooleanSupplier leaseHeld)
            throws SQLException, NotTaken {
        long since = System.nanoTime();
        long nextLog = since;
        try (PreparedStatement lock = c.prepareStatement("SELECT GET_LOCK(?, ?), CONNECTION_ID()");
             PreparedStatement holder = c.prepareStatement("SELECT IS_USED_LOCK(?)");
             // Only while that session still holds the fence: a pooled session that let it go may run another
             // shard's change by now.
             PreparedStatement doing = c.prepareStatement("SELECT COMMAND, INFO FROM information_schema.PROCESSLIST"
                     + " WHERE ID = ? AND IS_USED_LOCK(?) = ID")) {
            lock.setString(1, name);
            holder.setString(1, name);
            doing.setString(2, name);
            for (int wait = 0; ; wait = 1) {
                lock.setInt(2, wait);
                try (ResultSet rs = lock.executeQuery()) {
                    rs.next();
                    if (rs.getInt(1) == 1) {
                        return rs.getLong(2);
                    }
                }
                if (!leaseHeld.getAsBoolean()) {
                    throw new NotTaken("the lease was lost while waiting for the shard's fence");
                }
                long session;
                try (ResultSet rs = holder.executeQuery()) {
                    rs.next();
                    session = rs.getLong(1);
                    if (rs.wasNull()) {
                        continue;
                    }
                }
                doing.setLong(1, session);
                boolean executing;
                try (ResultSet rs = doing.executeQuery()) {
                    if (!rs.next()) {
                        // Gone, or it let the fence go meanwhile (or another user's, invisible: see end()).
                        if (visibleNowhere(c, session)) {
                            end(c, session);
                        }
                        continue;
                    }
                    executing = "Query".equals(rs.getString(1)) && isThe(statement, rs.getString(2));
                }
                long now = System.nanoTime();
                if (executing) {
                    if (now - nextLog >= 0) {
                        log.info("waiting for session {} of an earlier run, still executing the change ({} s)",
                                session, (now - since) / 1_000_000_000L);
                        nextLog = now + LOG_EVERY_NANOS;
                    }
                    continue;
                }
                end(c, session);
            }
        }
    }

    /**
     * Whether the processlist shows no session {@code session} at all: it is then of another user this account may
     * not see, and {@link #end} tells whether it may be ended.
     */
    private static boolean visibleNowhere(Connection c, long session) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM information_schema.PROCESSLIST WHERE ID = ?")) {
            ps.setLong(1, session);
            try (ResultSet rs = ps.executeQuery()) {
                return !rs.next();
            }
        }
    }

    /** Whether the processlist's text of a statement is {@code statement}: it shows at most 65,535 characters. */
    private static boolean isThe(String statement, String shown) {
        return shown != null && (shown.equals(statement)
                || shown.length() >= PROCESSLIST_TEXT_MAX && statement.startsWith(shown));
    }

    /** Ends an earlier run's session that holds the fence and is not executing the change. */
    private static void end(Connection c, long session) throws SQLException, NotTaken {
        log.warn("ending session {} of an earlier run: it holds the shard's fence and could still send the change",
                session);
        try (Statement s = c.createStatement()) {
            // A number from the server, not text: nothing to quote.
            s.execute("KILL CONNECTION " + session);
        } catch (SQLException e) {
            if (e.getErrorCode() == NOT_OWNER) {
                throw new NotTaken("session " + session + " of an earlier run holds the shard's fence and belongs to"
                        + " another user, so this runner cannot end it; end it on the shard's server (KILL "
                        + session + ") or let it finish, then retry");
            }
            if (e.getErrorCode() != UNKNOWN_THREAD) {
                throw e;
            }
        }
    }

    /** Lets the fence go (before the pooled connection goes back); a broken connection has let it go already. */
    static void release(Connection c, String name) {
        try (PreparedStatement ps = c.prepareStatement("DO RELEASE_LOCK(?)")) {
            ps.setString(1, name);
            ps.execute();
        } catch (SQLException e) {
            log.debug("releasing the shard's fence: {}", e.getMessage());
        }
    }
}
