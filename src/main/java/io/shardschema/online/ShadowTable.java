package io.shardschema.online;

import io.shardschema.schema.Sql;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The shadow table a change is copied into ({@code _t_new}: {@code CREATE TABLE ... LIKE t}, then the version's
 * ALTER), and the column mapping the copy, the flush and the checksum share: every column of the table that is
 * not generated, to the shadow's column of its name (or of its new name, for a renamed one), where that one is not
 * generated either. The SQL that writes the shadow is built here, in one place.
 */
final class ShadowTable {
    /** A column of the table and the shadow's column its values go to (the same name, or its new one). */
    record Mapped(SourceTable.Column from, SourceTable.Column to) {
    }

    private final SourceTable source;
    private final SourceTable shadow;
    private final List<Mapped> columns;
    private final PrimaryKey key;

    /** {@code renames}: old name (lower case) → new name, as the server reads the ALTER. */
    private ShadowTable(SourceTable source, SourceTable shadow, Map<String, String> renames) {
        this.source = source;
        this.shadow = shadow;
        List<Mapped> mapped = new ArrayList<>();
        for (SourceTable.Column c : source.columns()) {
            String target = renames.getOrDefault(c.name().toLowerCase(Locale.ROOT), c.name());
            shadow.columns().stream().filter(s -> s.name().equalsIgnoreCase(target)).findFirst()
                    .filter(s -> !c.generated() && !s.generated()).ifPresent(s -> mapped.add(new Mapped(c, s)));
        }
        this.columns = List.copyOf(mapped);
        this.key = new PrimaryKey(source.primaryKey());
    }

    /**
     * The shadow's name: the table's name and a suffix. The swap's RENAME takes its metadata locks in name order,
     * and the sentry cut-over is only atomic when it waits on the table's own lock first (EngineFactsTest): every
     * name the engine gives starts with the table's, so that the table's sorts first.
     */
    static String nameFor(String table) {
        return table + "__new";
    }

    /** The longest table name the engine's names leave room for (64 characters with the longest suffix). */
    static final int LONGEST_TABLE_NAME = 64 - "__20261203t101010_old".length();

    /** Makes the shadow table (dropping one an earlier, interrupted run left) with the change applied to it. */
    static ShadowTable create(Connection c, SourceTable source, String command, Map<String, String> renames)
            throws SQLException {
        String name = nameFor(source.name());
        String quoted = Sql.quote(source.schema()) + "." + Sql.quote(name);
        try (Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + quoted);
            s.execute("CREATE TABLE " + quoted + " LIKE " + source.quoted());
            s.execute("ALTER TABLE " + quoted + " " + command);
            // CREATE ... LIKE starts the counter over: ids the table gave out and lost at its top must not return.
            try (PreparedStatement ps = c.prepareStatement("SELECT AUTO_INCREMENT FROM information_schema.TABLES"
                    + " WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?")) {
                ps.setString(1, source.schema());
                ps.setString(2, source.name());
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && rs.getObject(1) != null) {
                        s.execute("ALTER TABLE " + quoted + " AUTO_INCREMENT = " + rs.getLong(1));
                    }
                }
            }
        }
        return new ShadowTable(source, SourceTable.read(c, source.schema(), name).orElseThrow(), renames);
    }

    SourceTable source() {
        return source;
    }

    SourceTable shadow() {
        return shadow;
    }

    PrimaryKey key() {
        return key;
    }

    List<Mapped> columns() {
        return columns;
    }

    private String targets() {
        return String.join(", ", columns.stream().map(m -> m.to().quoted()).toList());
    }

    private String sources() {
        return String.join(", ", columns.stream().map(m -> m.from().quoted()).toList());
    }

    /** Copies the rows of {@code t} matching {@code where} (over t's columns) that the shadow lacks. */
    String copy(String where) {
        return "INSERT IGNORE INTO " + shadow.quoted() + " (" + targets() + ") SELECT " + sources() + " FROM "
                + source.quoted() + " FORCE INDEX (PRIMARY) WHERE " + where;
    }

    /**
     * Brings the shadow's rows of the keys {@code where} names to what {@code t} holds now (gone, or as they are).
     * A plain INSERT after the DELETE, not REPLACE: REPLACE would silently delete another row of the shadow that
     * collides on a unique key; here that is an error (1062), which the caller retries once the other row's change
     * has arrived, and fails on if it stays.
     */
    List<String> refresh(String where) {
        return List.of("DELETE FROM " + shadow.quoted() + " WHERE " + where,
                "INSERT INTO " + shadow.quoted() + " (" + targets() + ") SELECT " + sources() + " FROM "
                        + source.quoted() + " WHERE " + where);
    }

    void drop(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + shadow.quoted());
        }
    }
}
