package io.shardschema.online;

import io.shardschema.config.DataSources;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The engine's cases, each compared with a plain ALTER of a copy of the table: the same definition and the same
 * rows afterwards; or, for a change that would lose or change data, a failure that leaves the table as it was.
 */
class MigrationCasesTest {
    /** A case: the table t, its rows, the change, and null (as ALTER does) or the failure expected. */
    private record Case(String name, String create, String rows, String change, String failure) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final List<Case> CASES = List.of(
            new Case("add, drop, reorder", "id INT PRIMARY KEY, a INT, b VARCHAR(20), c DATETIME",
                    "(1, 10, 'x', '2026-01-02 03:04:05'), (2, NULL, NULL, NULL), (3, -5, '', '1999-12-31 23:59:59')",
                    "ADD COLUMN d INT NOT NULL DEFAULT 3 FIRST, DROP COLUMN a, MODIFY b VARCHAR(30) AFTER c", null),
            new Case("rename", "id INT PRIMARY KEY, b VARCHAR(20), n INT", "(1, 'one', 1), (2, 'two', 2)",
                    "CHANGE b bee VARCHAR(20), DROP COLUMN n", null),
            new Case("widen a type", "id INT PRIMARY KEY, a INT, s VARCHAR(10)", "(1, 2147483647, 'x'), (2, -1, NULL)",
                    "MODIFY a BIGINT, MODIFY s TEXT", null),
            new Case("narrow a type that cuts values", "id INT PRIMARY KEY, s VARCHAR(40)",
                    "(1, 'ab'), (2, 'a value too long for three')", "MODIFY s VARCHAR(3)", "would lose or change rows"),
            new Case("round decimals", "id INT PRIMARY KEY, d DECIMAL(10,2)", "(1, 1.25), (2, 3.00)",
                    "MODIFY d DECIMAL(10,1)", "would lose or change rows"),
            new Case("latin1 to utf8mb4", "id INT PRIMARY KEY, s VARCHAR(20) CHARACTER SET latin1",
                    "(1, 'café'), (2, 'Ærø'), (3, NULL)", "CONVERT TO CHARACTER SET utf8mb4", null),
            new Case("add a unique key", "id INT PRIMARY KEY, a INT", "(1, 1), (2, 2), (3, NULL), (4, NULL)",
                    "ADD UNIQUE KEY uk (a)", null),
            new Case("add a unique key over duplicates", "id INT PRIMARY KEY, a INT", "(1, 1), (2, 1), (3, 2)",
                    "ADD UNIQUE KEY uk (a)", "would lose or change rows"),
            new Case("varchar key", "k VARCHAR(20) CHARACTER SET utf8mb4 PRIMARY KEY, v INT",
                    "('a', 1), ('B', 2), ('é', 3), ('  padded', 4)", "ADD COLUMN x INT", null),
            new Case("varbinary key", "k VARBINARY(16) PRIMARY KEY, v INT",
                    "(UNHEX('00'), 1), (UNHEX('00FF'), 2), (UNHEX('FF00FF00'), 3)", "ADD COLUMN x INT", null),
            new Case("composite key", "a INT, b CHAR(3), v INT, PRIMARY KEY (a, b)",
                    "(1, 'x', 1), (1, 'y', 2), (2, 'x', 3)", "ADD COLUMN x INT", null),
            new Case("unsigned bigint key", "id BIGINT UNSIGNED PRIMARY KEY, v INT",
                    "(0, 1), (9223372036854775808, 2), (18446744073709551615, 3)", "ADD COLUMN x INT", null),
            new Case("dates, NULL and zero", "id INT PRIMARY KEY, d DATE, dt DATETIME(3), ts TIMESTAMP NULL",
                    "(1, '2026-03-29', '2026-03-29 02:30:00.123', '2026-03-29 02:30:00'), (2, NULL, NULL, NULL),"
                            + " (3, '0000-00-00', '0000-00-00 00:00:00', NULL)", "ADD COLUMN x INT", null),
            new Case("json, decimal, bit, enum, set, float", "id INT PRIMARY KEY, j JSON, d DECIMAL(12,4), b BIT(5),"
                    + " e ENUM('a','b'), s SET('x','y'), f FLOAT, g DOUBLE",
                    "(1, '{\"k\": [1, 2]}', 12345678.1234, b'10101', 'b', 'x,y', 1.5, 2.25),"
                            + " (2, NULL, NULL, NULL, NULL, '', NULL, NULL)", "ADD COLUMN x INT", null),
            new Case("generated columns", "id INT PRIMARY KEY, a INT, g INT AS (a * 2) VIRTUAL,"
                    + " s INT AS (a + 1) STORED", "(1, 1, DEFAULT, DEFAULT), (2, NULL, DEFAULT, DEFAULT)",
                    "ADD COLUMN x INT", null),
            new Case("empty table", "id INT PRIMARY KEY, a INT", null, "ADD COLUMN x INT", null));

    static Stream<Arguments> cases() {
        return TestServers.FLAVOURS.stream().flatMap(f -> CASES.stream().map(c -> Arguments.of(f, c)));
    }

    private static Connection connect(String flavour, String schema) throws SQLException {
        return DataSources.connect(TestServers.binlog(flavour).rootDsn(schema));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("cases")
    void asAPlainAlterOfACopy(String flavour, Case k) throws Exception {
        String schema = "cases_" + UUID.randomUUID().toString().substring(0, 6);
        try (Connection c = connect(flavour, null); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + schema);
            s.execute("USE " + schema);
            s.execute("CREATE TABLE t (" + k.create() + ")");
            if (k.rows() != null) {
                s.execute("INSERT INTO t VALUES " + k.rows());
            }
            s.execute("CREATE TABLE ref LIKE t");
            String columns;
            try (ResultSet rs = s.executeQuery("SELECT GROUP_CONCAT(CONCAT('`', COLUMN_NAME, '`') ORDER BY"
                    + " ORDINAL_POSITION) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()"
                    + " AND TABLE_NAME = 't' AND IS_GENERATED = 'NEVER'")) {
                rs.next();
                columns = rs.getString(1);
            }
            s.execute("INSERT INTO ref (" + columns + ") SELECT " + columns + " FROM t");
        }
        List<String> before = snapshot(flavour, schema, "t");
        var prepared = Migration.prepare(() -> connect(flavour, schema), TestServers.binlog(flavour).rootDsn(null),
                schema, "t", k.change(), Migration.Control.NONE, Clock.systemUTC());
        if (k.failure() != null) {
            try (Migration m = prepared) {
                assertThatThrownBy(() -> m.run("t__old")).isInstanceOf(Migration.Failed.class)
                        .hasMessageContaining(k.failure());
            }
            assertThat(snapshot(flavour, schema, "t")).as("the table as it was").isEqualTo(before);
            assertThat(tables(flavour, schema)).as("nothing left behind").containsExactly("ref", "t");
            return;
        }
        try (Migration m = prepared) {
            m.run("t__old");
        }
        try (Connection c = connect(flavour, schema); Statement s = c.createStatement()) {
            s.execute("ALTER TABLE ref " + k.change());
        }
        assertThat(snapshot(flavour, schema, "t")).as(flavour + ": " + k.name()).isEqualTo(snapshot(flavour, schema, "ref"));
        assertThat(tables(flavour, schema)).as("the old table, and nothing else").containsExactly("ref", "t", "t__old");
    }

    /** The table's definition (its name left out) and its rows in key order, every value as text. */
    private static List<String> snapshot(String flavour, String schema, String table) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = connect(flavour, schema); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SHOW CREATE TABLE " + table)) {
                rs.next();
                out.add(rs.getString(2).replaceFirst("CREATE TABLE `[^`]+`", "CREATE TABLE"));
            }
            try (ResultSet rs = s.executeQuery("SELECT * FROM " + table + " ORDER BY 1, 2")) {
                ResultSetMetaData md = rs.getMetaData();
                while (rs.next()) {
                    StringBuilder row = new StringBuilder();
                    for (int i = 1; i <= md.getColumnCount(); i++) {
                        boolean binary = md.getColumnTypeName(i).matches("(?i).*(BINARY|BLOB|BIT).*");
                        String value = binary ? (rs.getBytes(i) == null ? null : HexFormat.of().formatHex(rs.getBytes(i)))
                                : rs.getString(i);
                        row.append(md.getColumnName(i)).append('=').append(value == null ? "NULL" : value).append(' ');
                    }
                    out.add(row.toString());
                }
            }
        }
        return out;
    }

    private static List<String> tables(String flavour, String schema) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = connect(flavour, schema); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '"
                     + schema + "' ORDER BY TABLE_NAME")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
