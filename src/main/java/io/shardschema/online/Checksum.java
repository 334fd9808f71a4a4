package io.shardschema.online;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Set;

/**
 * The check before the swap: the shadow must hold exactly the table's rows (through the column mapping). Both are
 * read in one consistent snapshot, opened while the table is locked for a moment after a final flush, so that
 * the two agree exactly when the copy is right; then the lock goes and the check reads without blocking anyone.
 */
final class Checksum {
    private static final Set<String> TEXT = Set.of("char", "varchar", "tinytext", "text", "mediumtext", "longtext",
            "enum", "set", "json");
    private static final Set<String> BINARY = Set.of("binary", "varbinary", "tinyblob", "blob", "mediumblob",
            "longblob", "bit", "geometry", "point", "linestring", "polygon");

    /** Rows and a checksum of them, of one table. */
    record Sum(long rows, long crc) {
    }

    private Checksum() {
    }

    /** How a column's value reads the same in the table and the shadow (text as utf8mb4, bytes as hex). */
    static String canonical(SourceTable.Column c) {
        String value = TEXT.contains(c.dataType()) ? "CONVERT(" + c.quoted() + " USING utf8mb4)"
                : BINARY.contains(c.dataType()) ? "HEX(" + c.quoted() + ")" : "CAST(" + c.quoted() + " AS CHAR)";
        return "IFNULL(" + value + ", ''), ISNULL(" + c.quoted() + ")";
    }

    static Sum of(Statement s, SourceTable table, List<SourceTable.Column> columns) throws SQLException {
        List<String> values = columns.stream().map(Checksum::canonical).toList();
        try (ResultSet rs = s.executeQuery("SELECT COUNT(*), COALESCE(BIT_XOR(CRC32(CONCAT_WS('#', "
                + String.join(", ", values) + "))), 0) FROM " + table.quoted())) {
            rs.next();
            return new Sum(rs.getLong(1), rs.getLong(2));
        }
    }

    /**
     * Opens a consistent snapshot on {@code reader} while {@code locker} holds the table (READ) and the shadow
     * (WRITE), after {@code finalFlush} ran under that lock; returns both sums, read after the lock is gone.
     */
    static Sum[] compare(Connection locker, Connection reader, ShadowTable shadow, FinalFlush finalFlush)
            throws SQLException {
        try (Statement lock = locker.createStatement(); Statement read = reader.createStatement()) {
            read.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
            lock.execute("SET SESSION lock_wait_timeout = 2");
            lock.execute("LOCK TABLES " + shadow.source().quoted() + " READ, " + shadow.shadow().quoted() + " WRITE WAIT 1");
            try {
                finalFlush.run(locker);
                read.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT");
            } finally {
                lock.execute("UNLOCK TABLES");
            }
            try {
                return new Sum[]{of(read, shadow.source(), shadow.columns().stream().map(ShadowTable.Mapped::from).toList()),
                        of(read, shadow.shadow(), shadow.columns().stream().map(ShadowTable.Mapped::to).toList())};
            } finally {
                read.execute("COMMIT");
            }
        }
    }

    /**
     * The keys of {@code keys} whose rows differ between the table and the shadow (compared as canonical text):
     * none when the shadow holds exactly those rows. A batch that differs is halved until the keys that differ
     * are found, so that the others can be let go of.
     */
    static List<PrimaryKey.Key> differing(Connection c, ShadowTable shadow, List<PrimaryKey.Key> keys)
            throws SQLException {
        List<PrimaryKey.Key> out = new java.util.ArrayList<>();
        for (int from = 0; from < keys.size(); from += 500) {
            collectDiffering(c, shadow, keys.subList(from, Math.min(keys.size(), from + 500)), out);
        }
        return out;
    }

    private static void collectDiffering(Connection c, ShadowTable shadow, List<PrimaryKey.Key> keys,
                                         List<PrimaryKey.Key> out) throws SQLException {
        if (rows(c, shadow.source(), shadow.columns().stream().map(ShadowTable.Mapped::from).toList(), shadow, keys)
                .equals(rows(c, shadow.shadow(), shadow.columns().stream().map(ShadowTable.Mapped::to).toList(),
                        shadow, keys))) {
            return;
        }
        if (keys.size() == 1) {
            out.add(keys.get(0));
            return;
        }
        int half = keys.size() / 2;
        collectDiffering(c, shadow, keys.subList(0, half), out);
        collectDiffering(c, shadow, keys.subList(half, keys.size()), out);
    }

    private static List<String> rows(Connection c, SourceTable table, List<SourceTable.Column> columns,
                                     ShadowTable shadow, List<PrimaryKey.Key> keys) throws SQLException {
        String sql = "SELECT CONCAT_WS('#', " + String.join(", ", columns.stream().map(Checksum::canonical).toList())
                + ") FROM " + table.quoted() + " WHERE " + shadow.key().in(keys.size());
        try (java.sql.PreparedStatement ps = c.prepareStatement(sql)) {
            Flusher.bind(ps, keys);
            List<String> out = new java.util.ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            java.util.Collections.sort(out);
            return out;
        }
    }

    /** What runs under the lock before the snapshot: the last events' keys brought over. */
    @FunctionalInterface
    interface FinalFlush {
        void run(Connection locked) throws SQLException;
    }
}
