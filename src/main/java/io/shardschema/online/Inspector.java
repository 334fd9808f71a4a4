package io.shardschema.online;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The inspector: reads, never writes. Refuses, before anything is touched, what the engine cannot change safely:
 * a server whose binlog it cannot follow, and tables it cannot copy and keep in sync. Each refusal says why, and
 * where pt-osc can do it instead.
 */
final class Inspector {
    private static final String PT_OSC = "; `--type pt-osc` can run it";

    private Inspector() {
    }

    /** The server's settings the stream needs; every problem, or none. */
    static List<String> serverProblems(Connection c) throws SQLException {
        List<String> out = new ArrayList<>();
        // The global values: what the writers' sessions start with (a session that sets its own is caught by the
        // stream: a statement-logged change or a partial row image stops the change).
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT @@GLOBAL.log_bin,"
                + " @@GLOBAL.binlog_format, @@GLOBAL.binlog_row_image, @@GLOBAL.log_bin_compress")) {
            rs.next();
            if (rs.getInt(1) != 1) {
                out.add("the server writes no binlog (log_bin is off); the engine follows changes in the binlog"
                        + PT_OSC);
            }
            if (!"ROW".equalsIgnoreCase(rs.getString(2))) {
                out.add("binlog_format is " + rs.getString(2) + ", not ROW: the binlog would not carry every row"
                        + " changed" + PT_OSC);
            }
            if (!"FULL".equalsIgnoreCase(rs.getString(3))) {
                out.add("binlog_row_image is " + rs.getString(3) + ", not FULL" + PT_OSC);
            }
            if (rs.getInt(4) != 0) {
                out.add("log_bin_compress is on: compressed binlog events cannot be read" + PT_OSC);
            }
        }
        return out;
    }

    /** Why the table cannot be changed online, if it cannot. */
    static Optional<String> tableProblem(Connection c, SourceTable t) throws SQLException {
        if (t.name().length() > ShadowTable.LONGEST_TABLE_NAME) {
            return Optional.of("table " + t.name() + " has a name longer than " + ShadowTable.LONGEST_TABLE_NAME
                    + " characters, which leaves no room for the names of its shadow and old tables" + PT_OSC);
        }
        if (t.primaryKey().isEmpty()) {
            return Optional.of("table " + t.name() + " has no primary key: chunks and changes are found by it" + PT_OSC);
        }
        Optional<String> key = PrimaryKey.unsupported(t.primaryKey());
        if (key.isPresent()) {
            return Optional.of("table " + t.name() + ": " + key.get() + PT_OSC);
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT ENGINE, TABLE_TYPE FROM information_schema.TABLES"
                + " WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (!"InnoDB".equalsIgnoreCase(rs.getString(1))) {
                    return Optional.of("table " + t.name() + " is " + rs.getString(1) + ", not InnoDB" + PT_OSC);
                }
                if ("SYSTEM VERSIONED".equalsIgnoreCase(rs.getString(2))) {
                    return Optional.of("table " + t.name() + " is system-versioned; change it with --type sql");
                }
            }
        }
        if (count(c, "SELECT COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE (CONSTRAINT_SCHEMA = ?"
                + " AND TABLE_NAME = ?) OR (UNIQUE_CONSTRAINT_SCHEMA = ? AND REFERENCED_TABLE_NAME = ?)",
                t.schema(), t.name(), t.schema(), t.name()) > 0) {
            return Optional.of("table " + t.name() + " takes part in a foreign key: a swap would leave child tables"
                    + " pointing at the old table" + PT_OSC + " (its --alter-foreign-keys-method)");
        }
        if (count(c, "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = ?"
                + " AND EVENT_OBJECT_TABLE = ?", t.schema(), t.name()) > 0) {
            return Optional.of("table " + t.name() + " has triggers, which the swap would leave on the old table"
                    + PT_OSC);
        }
        return Optional.empty();
    }

    /** Why the change cannot go on once the shadow exists: its primary key must be the table's. */
    static Optional<String> shadowProblem(ShadowTable shadow) {
        List<String> before = shadow.source().primaryKey().stream().map(col -> col.name().toLowerCase(java.util.Locale.ROOT)).toList();
        List<String> after = shadow.shadow().primaryKey().stream().map(col -> col.name().toLowerCase(java.util.Locale.ROOT)).toList();
        if (!before.equals(after)) {
            return Optional.of("the change alters the primary key (" + String.join(", ", before) + " → "
                    + String.join(", ", after) + "): rows and changes are matched by it; change it with --type sql");
        }
        return Optional.empty();
    }

    private static int count(Connection c, String sql, String... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setString(i + 1, params[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }
}
