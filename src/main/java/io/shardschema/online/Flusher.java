package io.shardschema.online;

import io.shardschema.schema.Sql;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The applier of captured changes: brings the shadow's rows of the keys the stream noted to what the table holds
 * now (deleted, and written again from the current row where there is one). Reading the current row, not the
 * event's image, makes it idempotent and order-free; the barrier makes it safe: a binlog event can arrive before
 * its transaction is visible to other sessions, so before reading, the flusher commits a write of its own to the
 * changelog table; MariaDB commits in binlog order, so once that commit returns, every transaction whose events
 * were read before it is visible.
 */
final class Flusher {
    private static final int BATCH = 500;
    private final ShadowTable shadow;
    private final String changelog;

    Flusher(ShadowTable shadow, String changelog) {
        this.shadow = shadow;
        this.changelog = changelog;
    }

    /** The changelog table of {@code table}: one row, written by each barrier. */
    static String changelogName(String table) {
        return table + "__osc";
    }

    static void createChangelog(Connection c, String schema, String table) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + Sql.quote(schema) + "." + Sql.quote(changelogName(table))
                    + " (id INT NOT NULL PRIMARY KEY, at DATETIME(6) NOT NULL) ENGINE=InnoDB");
        }
    }

    /** A committed write: every transaction binlogged before it is now visible. */
    void barrier(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("REPLACE INTO " + Sql.quote(shadow.source().schema()) + "." + Sql.quote(changelog)
                    + " (id, at) VALUES (1, NOW(6))");
        }
    }

    /** Barrier, then refresh of {@code keys}; on a connection in autocommit, READ COMMITTED. */
    void flush(Connection c, Set<PrimaryKey.Key> keys) throws SQLException {
        if (keys.isEmpty()) {
            return;
        }
        barrier(c);
        refresh(c, keys);
    }

    /**
     * Refreshes {@code keys} without a barrier: for the final flush, under the cut-over's table lock, when every
     * writer of the table has committed (LOCK TABLES waited for them).
     */
    void refresh(Connection c, Set<PrimaryKey.Key> keys) throws SQLException {
        List<PrimaryKey.Key> all = new ArrayList<>(keys);
        for (int from = 0; from < all.size(); from += BATCH) {
            List<PrimaryKey.Key> batch = all.subList(from, Math.min(all.size(), from + BATCH));
            // The DELETE and the INSERT of a batch commit together: never a key deleted and not written back.
            c.setAutoCommit(false);
            try {
                for (String sql : shadow.refresh(shadow.key().in(batch.size()))) {
                    try (PreparedStatement ps = c.prepareStatement(sql)) {
                        bind(ps, batch);
                        ps.executeUpdate();
                    }
                }
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    static void bind(PreparedStatement ps, List<PrimaryKey.Key> keys) throws SQLException {
        int p = 1;
        for (PrimaryKey.Key k : keys) {
            k.bind(ps, p);
            p += k.values().size();
        }
    }
}
