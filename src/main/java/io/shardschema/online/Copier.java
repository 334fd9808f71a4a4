package io.shardschema.online;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The copier: copies the table into the shadow in chunks by primary key, each one {@code INSERT IGNORE ... SELECT}
 * under READ COMMITTED (it locks no row of the table: see EngineFactsTest), sized to a time target. IGNORE only
 * lets a row the flusher wrote first win over the chunk's copy of it (1062 on PRIMARY); any other warning (a value
 * cut, a duplicate on a new unique key) would be a row lost or changed, and stops the change.
 */
final class Copier {
    /** One chunk's statement should take about this long: short enough for writers queued on AUTO-INC. */
    static final long TARGET_MILLIS = 500;
    private static final int MIN_ROWS = 10;
    private static final int MAX_ROWS = 100_000;

    /** A chunk's warnings that would lose or change data. */
    static final class Lossy extends Exception {
        Lossy(String message) {
            super(message);
        }
    }

    private final ShadowTable shadow;
    private final PrimaryKey key;
    private final Clock clock;
    private PrimaryKey.Key done;
    private boolean finished;
    private int rows = 1000;
    private long copied;

    Copier(ShadowTable shadow, Clock clock) {
        this.shadow = shadow;
        this.key = shadow.key();
        this.clock = clock;
    }

    /** The session settings every copy and flush runs with. */
    static void configure(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
            // NO_AUTO_VALUE_ON_ZERO: a row whose AUTO_INCREMENT key is 0 keeps it. UTC: no DST hour is ambiguous.
            s.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO'),"
                    + " time_zone = '+00:00', max_error_count = 65535, innodb_lock_wait_timeout = 2");
        }
        c.setAutoCommit(true);
    }

    boolean finished() {
        return finished;
    }

    long copied() {
        return copied;
    }

    /** Copies the next chunk; false once the whole table is copied. */
    boolean next(Connection c) throws SQLException, Lossy {
        if (finished) {
            return false;
        }
        Optional<PrimaryKey.Key> upTo = boundary(c);
        String where = (done == null ? "1" : key.after()) + (upTo.isPresent() ? " AND " + key.atMost() : "");
        long start = clock.millis();
        try (PreparedStatement ps = c.prepareStatement(shadow.copy(where))) {
            int p = 1;
            if (done != null) {
                p = key.bindAfter(ps, p, done);
            }
            if (upTo.isPresent()) {
                key.bindAfter(ps, p, upTo.get());
            }
            copied += ps.executeLargeUpdate();
            check(ps);
        }
        resize(clock.millis() - start);
        done = upTo.orElse(null);
        finished = upTo.isEmpty();
        return !finished;
    }

    /** The key {@code rows} rows after the last chunk's end, or empty when fewer are left. */
    private Optional<PrimaryKey.Key> boundary(Connection c) throws SQLException {
        String sql = "SELECT " + shadow.source().keyList() + " FROM " + shadow.source().quoted()
                + " FORCE INDEX (PRIMARY)" + (done == null ? "" : " WHERE " + key.after()) + " ORDER BY "
                + shadow.source().keyList() + " LIMIT 1 OFFSET " + (rows - 1);
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            if (done != null) {
                key.bindAfter(ps, 1, done);
            }
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                List<Object> values = new ArrayList<>();
                for (int i = 1; i <= key.size(); i++) {
                    values.add(rs.getObject(i));
                }
                return Optional.of(new PrimaryKey.Key(values));
            }
        }
    }

    private static void check(Statement s) throws SQLException, Lossy {
        List<String> lossy = new ArrayList<>();
        for (java.sql.SQLWarning w = s.getWarnings(); w != null; w = w.getNextWarning()) {
            boolean racedWithFlush = w.getErrorCode() == 1062 && w.getMessage().contains("'PRIMARY'");
            if (!racedWithFlush) {
                lossy.add(w.getErrorCode() + ": " + w.getMessage());
            }
        }
        if (!lossy.isEmpty()) {
            throw new Lossy("the copy would lose or change rows: " + String.join("; ", lossy.subList(0,
                    Math.min(5, lossy.size()))) + (lossy.size() > 5 ? "; and " + (lossy.size() - 5) + " more" : ""));
        }
    }

    /** Towards the time target: at most ×1.5 up, ÷2 down per chunk, within bounds. */
    private void resize(long millis) {
        double factor = Math.max(0.5, Math.min(1.5, (double) TARGET_MILLIS / Math.max(1, millis)));
        rows = (int) Math.max(MIN_ROWS, Math.min(MAX_ROWS, rows * factor));
    }
}
