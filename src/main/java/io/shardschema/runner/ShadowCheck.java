package io.shardschema.runner;

import io.shardschema.catalog.Version;
import io.shardschema.change.PtOsc;
import io.shardschema.change.PtOscAlter;
import io.shardschema.change.PtOscOutput;
import io.shardschema.schema.Sql;
import io.shardschema.schema.TableKeys;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The check after pt-osc's copy, before the task may wait at the cut-over gate: the shadow table must hold the
 * table's rows unchanged. Fails on a warning that pt-osc printed and copied past (a truncated value), on renames
 * pt-osc applied otherwise than the ALTER says, on a row count that differs ({@link RowCounts}), and on a renamed
 * column whose values did not arrive under its new name.
 */
final class ShadowCheck {
    private ShadowCheck() {
    }

    /** Why the copy is not faithful; empty when it is. */
    static Optional<String> lossy(Connection c, String schema, String table, Version version, PtOscOutput said)
            throws SQLException {
        String shadow = PtOsc.shadowTable(table);
        Optional<String> counts = RowCounts.compare(c, schema, table, shadow);
        if (!said.dataWarnings().isEmpty()) {
            return Optional.of("pt-osc copied past a warning that means changed data (" + said.dataWarnings().get(0)
                    + "), which a plain ALTER refuses" + counts.map(d -> "; and " + d).orElse(""));
        }
        if (counts.isPresent()) {
            return counts;
        }
        Map<String, String> renames = PtOscAlter.read(table, version.command()).renames();
        Map<String, String> applied = said.renames();
        if (!PtOscAlter.sameRenames(applied, renames)) {
            return Optional.of("pt-osc renamed " + applied + " where the ALTER renames " + renames);
        }
        return renames.isEmpty() ? Optional.empty() : renamedValues(c, schema, table, shadow, renames);
    }

    /**
     * Rows whose renamed columns differ between the table and the shadow table, joined on the primary key (the
     * shadow table's key columns under their new names); empty when none differ. A table without a primary key is
     * refused: its rename cannot be checked.
     */
    private static Optional<String> renamedValues(Connection c, String schema, String table, String shadow,
                                                  Map<String, String> renames) throws SQLException {
        String definition = io.shardschema.schema.TableDefinition.read(c, schema, table);
        Optional<TableKeys.Unique> primary = TableKeys.unique(definition).stream()
                .filter(k -> k.name().equals("PRIMARY")).findFirst();
        if (primary.isEmpty()) {
            return Optional.of("the renamed columns cannot be compared without a primary key; rename them with"
                    + " --type sql");
        }
        List<String> join = new ArrayList<>();
        for (TableKeys.Part part : primary.get().parts()) {
            join.add("o." + Sql.quote(part.column()) + " = n." + Sql.quote(newName(part.column(), renames)));
        }
        List<String> differ = new ArrayList<>();
        renames.forEach((from, to) -> differ.add("NOT (o." + Sql.quote(from) + " <=> n." + Sql.quote(to) + ")"));
        String sql = "SELECT COUNT(*) FROM " + Sql.quote(schema) + "." + Sql.quote(table) + " AS o JOIN "
                + Sql.quote(schema) + "." + Sql.quote(shadow) + " AS n ON " + String.join(" AND ", join)
                + " WHERE " + String.join(" OR ", differ);
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            long rows = rs.getLong(1);
            return rows == 0 ? Optional.empty() : Optional.of(rows + " rows of " + schema + "." + table
                    + " have other values in their renamed columns in " + shadow);
        }
    }

    private static String newName(String column, Map<String, String> renames) {
        return renames.getOrDefault(column.toLowerCase(Locale.ROOT), column);
    }
}
