package io.shardschema.runner;

import io.shardschema.schema.Sql;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;

/**
 * The check that a shadow table holds the table's rows: both counted in one consistent snapshot. On InnoDB the
 * triggers write the shadow table in the same transaction as the table, so every snapshot sees the same count in
 * both once the copy is complete, whatever the writers do meanwhile; a difference means rows were lost (a copy cut
 * short, an ALTER whose INSERT IGNORE dropped colliding rows) or appeared. Counts, not contents: a row changed
 * while the triggers were missing goes unseen here (the cut-over checks the triggers too). Reads every row of both
 * (no locks taken).
 */
final class RowCounts {
    private RowCounts() {
    }

    /** Empty when {@code shadow} has as many rows as {@code table}; else what differs. */
    static Optional<String> compare(Connection c, String schema, String table, String shadow) throws SQLException {
        String q = Sql.quote(schema) + ".";
        int isolation = c.getTransactionIsolation();
        try (Statement s = c.createStatement()) {
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            c.setAutoCommit(false);
            s.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
            long rows;
            long copied;
            try (ResultSet rs = s.executeQuery("SELECT (SELECT COUNT(*) FROM " + q + Sql.quote(table) + "),"
                    + " (SELECT COUNT(*) FROM " + q + Sql.quote(shadow) + ")")) {
                rs.next();
                rows = rs.getLong(1);
                copied = rs.getLong(2);
            }
            c.commit();
            return rows == copied ? Optional.empty() : Optional.of(schema + "." + shadow + " holds " + copied
                    + " rows, " + schema + "." + table + " " + rows);
        } finally {
            c.rollback();
            c.setAutoCommit(true);
            c.setTransactionIsolation(isolation);
        }
    }
}
