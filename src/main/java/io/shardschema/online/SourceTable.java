package io.shardschema.online;

import io.shardschema.schema.Sql;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A table as the engine sees it: its columns in order (as the binlog's row images carry them) and its primary
 * key. Read once, before anything is touched.
 */
record SourceTable(String schema, String name, List<Column> columns, List<Column> primaryKey) {

    /**
     * A column: its 0-based position in a row image, name, data type ({@code int}, {@code varchar}...), whether
     * it is unsigned or generated, and its character set and collation (null for non-text).
     */
    record Column(int position, String name, String dataType, boolean unsigned, boolean generated, String charset,
                  String collation) {
        String quoted() {
            return Sql.quote(name);
        }
    }

    /** The table, or empty when it does not exist. */
    static Optional<SourceTable> read(Connection c, String schema, String table) throws SQLException {
        List<Column> columns = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT ORDINAL_POSITION, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE,"
                + " IS_GENERATED, CHARACTER_SET_NAME, COLLATION_NAME FROM information_schema.COLUMNS"
                + " WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION")) {
            ps.setString(1, schema);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.add(new Column(rs.getInt(1) - 1, rs.getString(2), rs.getString(3).toLowerCase(Locale.ROOT),
                            rs.getString(4).toLowerCase(Locale.ROOT).contains("unsigned"),
                            !"NEVER".equalsIgnoreCase(rs.getString(5)), rs.getString(6), rs.getString(7)));
                }
            }
        }
        if (columns.isEmpty()) {
            return Optional.empty();
        }
        List<Column> key = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT COLUMN_NAME FROM information_schema.STATISTICS"
                + " WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX")) {
            ps.setString(1, schema);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String name = rs.getString(1);
                    columns.stream().filter(col -> col.name().equalsIgnoreCase(name)).findFirst().ifPresent(key::add);
                }
            }
        }
        return Optional.of(new SourceTable(schema, table, List.copyOf(columns), List.copyOf(key)));
    }

    String quoted() {
        return Sql.quote(schema) + "." + Sql.quote(name);
    }

    /** The primary key's columns, quoted and comma-separated (for ORDER BY and SELECT). */
    String keyList() {
        return String.join(", ", primaryKey.stream().map(Column::quoted).toList());
    }
}
