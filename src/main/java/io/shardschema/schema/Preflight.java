package io.shardschema.schema;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tries a change on copies of a shard's table definitions (no rows) in a scratch schema on the same server, so
 * that the server itself says whether it parses, what it changes, and how it would run: INSTANT, INPLACE without
 * a lock, or a table copy. The scratch schema is always dropped; its name carries its creation time, so that
 * what a killed process left is dropped by the next preflight.
 */
public final class Preflight {
    static final String SCRATCH_PREFIX = "_ss_scratch_";
    private static final Pattern SCRATCH = Pattern.compile(Pattern.quote(SCRATCH_PREFIX) + "(\\d+)_[0-9a-f]+");
    /** A preflight copies definitions only: one older than this was left by a process that died. */
    private static final Duration LEFTOVER_AGE = Duration.ofMinutes(10);

    /** How the server would run an ALTER: the cheapest algorithm it accepted on the scratch copy. */
    public enum Algorithm { INSTANT, INPLACE, COPY, NOT_AN_ALTER }

    /** What a preflight found. {@code error} is the server's error when the change failed. */
    public record Report(String before, String after, String diff, boolean changesNothing, Algorithm algorithm,
                         String error, List<String> removedLeftovers) {
    }

    private Preflight() {
    }

    /**
     * Copies every table of {@code schema} (definitions only) into a scratch schema and runs {@code statement}
     * there, where {@code statement} is what {@code ChangeStatement.sql} gives for the version.
     */
    public static Report run(Connection c, String schema, String statement, boolean isAlter) throws SQLException {
        List<String> removed = removeLeftovers(c, Instant.now());
        String scratch = SCRATCH_PREFIX + Instant.now().getEpochSecond() + "_"
                + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        String previousDb = c.getCatalog();
        try (Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + Sql.quote(scratch));
            try {
                SchemaSnapshot source = SchemaSnapshot.read(c, schema, null);
                for (String table : source.tables().keySet()) {
                    s.execute("CREATE TABLE " + Sql.quote(scratch) + "." + Sql.quote(table) + " LIKE "
                            + Sql.quote(schema) + "." + Sql.quote(table));
                }
                c.setCatalog(scratch);
                SchemaSnapshot before = SchemaSnapshot.read(c, scratch, null);
                Algorithm algorithm = Algorithm.NOT_AN_ALTER;
                String error = null;
                try {
                    algorithm = isAlter ? alter(s, statement) : execute(s, statement);
                } catch (SQLException e) {
                    error = "ERROR " + e.getErrorCode() + " (" + e.getSQLState() + "): "
                            + e.getMessage().replaceFirst("^\\(conn=\\d+\\) ", "");
                }
                SchemaSnapshot after = SchemaSnapshot.read(c, scratch, null);
                return new Report(before.text(), after.text(), before.diff(after, "before", "after"),
                        error == null && before.text().equals(after.text()), error == null ? algorithm : null, error,
                        removed);
            } finally {
                c.setCatalog(previousDb);
                s.execute("DROP DATABASE IF EXISTS " + Sql.quote(scratch));
            }
        }
    }

    /** Tries the ALTER with ALGORITHM=INSTANT, then INPLACE with LOCK=NONE, then as it is (a copy at worst). */
    private static Algorithm alter(Statement s, String statement) throws SQLException {
        for (Algorithm a : List.of(Algorithm.INSTANT, Algorithm.INPLACE)) {
            try {
                s.execute(statement + ", ALGORITHM=" + a + (a == Algorithm.INPLACE ? ", LOCK=NONE" : ""));
                return a;
            } catch (SQLException e) {
                if (e.getErrorCode() != 1845 && e.getErrorCode() != 1846) {
                    // Not "this algorithm is not supported": the change itself is wrong.
                    throw e;
                }
            }
        }
        s.execute(statement);
        return Algorithm.COPY;
    }

    private static Algorithm execute(Statement s, String statement) throws SQLException {
        s.execute(statement);
        return Algorithm.NOT_AN_ALTER;
    }

    /** Drops scratch schemas older than {@link #LEFTOVER_AGE}: their preflight was killed before it cleaned up. */
    static List<String> removeLeftovers(Connection c, Instant now) throws SQLException {
        List<String> removed = new ArrayList<>();
        List<String> candidates = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?")) {
            ps.setString(1, SCRATCH_PREFIX.replace("_", "\\_") + "%");
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    candidates.add(rs.getString(1));
                }
            }
        }
        try (Statement s = c.createStatement()) {
            for (String name : candidates) {
                Matcher m = SCRATCH.matcher(name);
                if (m.matches() && Instant.ofEpochSecond(Long.parseLong(m.group(1))).isBefore(now.minus(LEFTOVER_AGE))) {
                    s.execute("DROP DATABASE IF EXISTS " + Sql.quote(name));
                    removed.add(name);
                }
            }
        }
        return removed;
    }
}
