package io.shardschema.runner;

import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Version;
import io.shardschema.change.PtOsc;
import io.shardschema.change.PtOscAlter;
import io.shardschema.schema.Sql;
import io.shardschema.schema.TableDefinition;
import io.shardschema.schema.TableKeys;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What one shard's table needs before pt-osc runs on it, read on the shard (read only) before the dry run and again
 * before the copy: the options its case needs, or a refusal that says why, before anything is touched. pt-osc
 * would otherwise find these cases only in its dry run or its copy, after the approval, or not at all.
 */
final class PtOscChecks {
    /** pt-osc's options for this table ({@code arguments}), or why it must not run ({@code refusal}). */
    record Decision(List<String> arguments, Optional<String> refusal) {
        static Decision refused(String why) {
            return new Decision(List.of(), Optional.of(why));
        }
    }

    private PtOscChecks() {
    }

    static Decision decide(Connection c, String schema, Version version) throws SQLException {
        String table = version.tableName();
        PtOscAlter alter;
        try {
            alter = PtOscAlter.read(table, version.command());
        } catch (ShardSchemaException e) {
            return Decision.refused(e.getMessage());
        }
        Optional<String> foreignKey = foreignKey(c, schema, table);
        if (foreignKey.isPresent()) {
            return Decision.refused(PtOscAlter.foreignKeyRefusal(table, List.of(foreignKey.get())));
        }
        List<String> arguments = new ArrayList<>(alter.arguments());
        if (!TableTriggers.read(c, schema, table).isEmpty()) {
            // pt-osc checks that they still work on the altered table; the cut-over moves them (TableTriggers).
            arguments.add(PtOsc.PRESERVE_TRIGGERS);
        }
        Version.Expected expected = version.expected();
        if (expected.known() && expected.schemaAfter() != null && expected.schemaAfter().containsKey(table)) {
            for (TableKeys.Unique key : TableKeys.added(expected.tableBefore(), expected.schemaAfter().get(table))) {
                Optional<String> duplicates = duplicates(c, schema, table, key, alter.renames());
                if (duplicates.isPresent()) {
                    return Decision.refused("the new unique key " + Sql.quote(key.name()) + " does not hold on"
                            + " this shard's rows: " + duplicates.get() + "; pt-osc would drop the colliding rows."
                            + " Remove the duplicates, then `retry`");
                }
            }
            // Every key the change adds was counted just now: pt-osc's own check can only say it cannot tell.
            arguments.add("--no-check-unique-key-change");
        }
        return new Decision(arguments, Optional.empty());
    }

    /** A foreign key the table is the child or the parent of, as {@code child → parent}; empty when none. */
    private static Optional<String> foreignKey(Connection c, String schema, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME,"
                + " REFERENCED_TABLE_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS"
                + " WHERE (CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?)"
                + " OR (UNIQUE_CONSTRAINT_SCHEMA = ? AND REFERENCED_TABLE_NAME = ?) LIMIT 1")) {
            ps.setString(1, schema);
            ps.setString(2, table);
            ps.setString(3, schema);
            ps.setString(4, table);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1) + "." + rs.getString(2) + " " + rs.getString(3)
                        + " → " + rs.getString(4)) : Optional.empty();
            }
        }
    }

    /**
     * How many rows of the table share a value of {@code key} (rows with a NULL part never collide), with an
     * example; empty when none do. Columns the ALTER renames are read under their old names. Reads every row.
     */
    private static Optional<String> duplicates(Connection c, String schema, String table, TableKeys.Unique key,
                                               Map<String, String> renames) throws SQLException {
        List<String> values = new ArrayList<>();
        List<String> notNull = new ArrayList<>();
        List<String> columns = TableKeys.columns(TableDefinition.read(c, schema, table));
        List<String> quoted = new ArrayList<>();
        for (TableKeys.Part part : key.parts()) {
            String old = oldName(part.column(), renames);
            if (!columns.contains(old.toLowerCase(java.util.Locale.ROOT))) {
                // A column the change adds has no values yet to count: the row counts after the copy decide.
                return Optional.empty();
            }
            String column = Sql.quote(old);
            String value = part.prefix() > 0 ? "LEFT(" + column + ", " + part.prefix() + ")" : column;
            values.add(value);
            quoted.add("QUOTE(" + value + ")");
            notNull.add(column + " IS NOT NULL");
        }
        String sql = "SELECT COUNT(*), COALESCE(SUM(n), 0), MIN(example) FROM (SELECT COUNT(*) AS n, CONCAT_WS(', ', "
                + String.join(", ", quoted) + ") AS example FROM " + Sql.quote(schema) + "." + Sql.quote(table)
                + " WHERE " + String.join(" AND ", notNull) + " GROUP BY " + String.join(", ", values)
                + " HAVING COUNT(*) > 1) AS d";
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            long groups = rs.getLong(1);
            return groups == 0 ? Optional.empty() : Optional.of(rs.getLong(2) + " rows share " + groups
                    + " value" + (groups == 1 ? "" : "s") + ", for example (" + rs.getString(3) + ")");
        }
    }

    private static String oldName(String column, Map<String, String> renames) {
        return renames.entrySet().stream().filter(e -> e.getValue().equalsIgnoreCase(column)).map(Map.Entry::getKey)
                .findFirst().orElse(column);
    }
}
