package io.shardschema.schema;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Reads one table's definition as the server prints it, without the noise that changes on every insert
 * (the AUTO_INCREMENT counter). Two reads of an unchanged table are equal; any DDL makes them differ.
 */
public final class TableDefinition {
    /** What {@link #read} returns for a table that does not exist. */
    public static final String ABSENT = "(absent)";
    private static final int NO_SUCH_TABLE = 1146;

    private TableDefinition() {
    }

    public static String read(Connection c, String schema, String table) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SHOW CREATE TABLE " + Sql.quote(schema) + "." + Sql.quote(table))) {
            return rs.next() ? normalise(rs.getString(2)) : ABSENT;
        } catch (SQLException e) {
            if (e.getErrorCode() == NO_SUCH_TABLE) {
                return ABSENT;
            }
            throw e;
        }
    }

    /** A unified diff between two definitions of one table; empty when they are equal. */
    public static String diff(String from, String to, String fromLabel, String toLabel) {
        return new SchemaSnapshot(new java.util.TreeMap<>(java.util.Map.of("t", from)))
                .diff(new SchemaSnapshot(new java.util.TreeMap<>(java.util.Map.of("t", to))), fromLabel, toLabel);
    }

    static String normalise(String createTable) {
        return createTable.replaceAll(" AUTO_INCREMENT=\\d+", "");
    }
}
