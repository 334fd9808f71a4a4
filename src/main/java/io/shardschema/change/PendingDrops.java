package io.shardschema.change;

import io.shardschema.schema.Sql;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * The pending-drops database of a shard server: tables replaced by a cut-over or dropped by a version wait there,
 * under names that start with the time they were moved, until {@code trash purge} drops them. That time is the
 * shard server's UTC clock, and their age is measured on the same clock: the runner that moved a table and the
 * host that purges may disagree with the server, and with each other.
 */
public final class PendingDrops {
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMddHHmmss").withZone(ZoneOffset.UTC);

    private PendingDrops() {
    }

    public static String stamp(Instant at) {
        return STAMP.format(at);
    }

    /**
     * The name of {@code schema.table} moved now, stamped with the UTC time of the server {@code c} is connected to:
     * the stamp first, so that shortening keeps it.
     */
    public static String name(Connection c, String schema, String table) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT UTC_TIMESTAMP()")) {
            rs.next();
            return Sql.tableName(STAMP.format(rs.getObject(1, LocalDateTime.class)) + "_" + schema + "_" + table);
        }
    }

    /**
     * A table waiting to be dropped, and how long ago it was moved by its server's clock; {@code movedAt} and
     * {@code ageSeconds} are null for a table ShardSchema did not put there.
     */
    public record Entry(String server, String table, Instant movedAt, Long ageSeconds, long rows, long bytes) {
    }

    public static List<Entry> list(Connection c, String database, String server) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT TABLE_NAME, COALESCE(TABLE_ROWS, 0),"
                + " COALESCE(DATA_LENGTH + INDEX_LENGTH, 0), UTC_TIMESTAMP() FROM information_schema.TABLES"
                + " WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME")) {
            ps.setString(1, database);
            try (ResultSet rs = ps.executeQuery()) {
                List<Entry> out = new ArrayList<>();
                while (rs.next()) {
                    Instant movedAt = movedAt(rs.getString(1));
                    Instant serverNow = rs.getObject(4, LocalDateTime.class).toInstant(ZoneOffset.UTC);
                    Long age = movedAt == null ? null : Duration.between(movedAt, serverNow).toSeconds();
                    out.add(new Entry(server, rs.getString(1), movedAt, age, rs.getLong(2), rs.getLong(3)));
                }
                return out;
            }
        }
    }

    private static Instant movedAt(String table) {
        if (table.length() < 15 || table.charAt(14) != '_') {
            return null;
        }
        try {
            return LocalDateTime.parse(table.substring(0, 14), STAMP).toInstant(ZoneOffset.UTC);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    public static void drop(Connection c, String database, String table) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + Sql.quote(database) + "." + Sql.quote(table));
        }
    }
}
