package io.shardschema.online;

import java.io.Serializable;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The primary key of the table being changed: which column types the engine can carry from a binlog row image to
 * a bound value, and the SQL predicates over key values (ranges for chunks, lists for flushes), written out column
 * by column ({@code a > ? OR (a = ? AND b > ?)}) so that they use the index on every server version.
 */
final class PrimaryKey {
    private static final Set<String> INTEGERS = Set.of("tinyint", "smallint", "mediumint", "int", "bigint");
    private static final Set<String> TEXT = Set.of("char", "varchar");
    /** BINARY(n) is not: the binlog drops its trailing zero bytes, so its value would not match the row's. */
    private static final Set<String> BINARY = Set.of("varbinary");
    /** How the character sets a text key may have decode; MariaDB's latin1 is Windows-1252 (see {@link #LATIN1}). */
    private static final Map<String, java.util.function.Function<byte[], String>> CHARSETS = Map.of(
            "utf8mb4", b -> new String(b, StandardCharsets.UTF_8), "utf8mb3", b -> new String(b, StandardCharsets.UTF_8),
            "utf8", b -> new String(b, StandardCharsets.UTF_8), "ascii", b -> new String(b, StandardCharsets.US_ASCII),
            "latin1", PrimaryKey::latin1);
    /**
     * MariaDB's latin1, byte by byte: Windows-1252, but the five bytes that code page leaves undefined (0x81, 0x8D,
     * 0x8F, 0x90, 0x9D) are the C1 control characters of the same number, where Java would put U+FFFD.
     */
    private static final char[] LATIN1 = new char[256];

    static {
        java.nio.charset.Charset cp1252 = java.nio.charset.Charset.forName("windows-1252");
        for (int b = 0; b < 256; b++) {
            String c = new String(new byte[]{(byte) b}, cp1252);
            LATIN1[b] = c.equals("\uFFFD") ? (char) b : c.charAt(0);
        }
    }

    private static String latin1(byte[] bytes) {
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = LATIN1[bytes[i] & 0xFF];
        }
        return new String(out);
    }

    /** A key's values, comparable by value (binary ones wrapped), ready to bind. */
    record Key(List<Object> values) {
        void bind(PreparedStatement ps, int from) throws SQLException {
            for (int i = 0; i < values.size(); i++) {
                Object v = values.get(i);
                ps.setObject(from + i, v instanceof ByteBuffer b ? bytes(b) : v);
            }
        }

        private static byte[] bytes(ByteBuffer b) {
            byte[] out = new byte[b.remaining()];
            b.duplicate().get(out);
            return out;
        }
    }

    private final List<SourceTable.Column> columns;

    PrimaryKey(List<SourceTable.Column> columns) {
        this.columns = List.copyOf(columns);
    }

    int size() {
        return columns.size();
    }

    /** Why the engine cannot carry this key from the binlog, if it cannot (a type it does not decode yet). */
    static Optional<String> unsupported(List<SourceTable.Column> columns) {
        for (SourceTable.Column c : columns) {
            boolean known = INTEGERS.contains(c.dataType()) || BINARY.contains(c.dataType())
                    || TEXT.contains(c.dataType()) && CHARSETS.containsKey(c.charset());
            if (!known) {
                return Optional.of("its primary key column " + c.name() + " is " + c.dataType()
                        + (c.charset() == null ? "" : " in " + c.charset()) + "; the online engine carries keys of"
                        + " integer, varbinary, and char or varchar (utf8mb4, utf8mb3, latin1, ascii) columns");
            }
        }
        return Optional.empty();
    }

    /** The key of a binlog row image (every column, in table order). */
    Key of(Serializable[] row) {
        List<Object> values = new ArrayList<>(columns.size());
        for (SourceTable.Column c : columns) {
            values.add(value(c, row[c.position()]));
        }
        return new Key(values);
    }

    private static Object value(SourceTable.Column c, Serializable v) {
        if (v == null) {
            return null;
        }
        if (INTEGERS.contains(c.dataType())) {
            long n = ((Number) v).longValue();
            if (!c.unsigned()) {
                return n;
            }
            if (c.dataType().equals("bigint")) {
                return n >= 0 ? (Object) n : new BigInteger(Long.toUnsignedString(n));
            }
            return unsignedOf(c.dataType(), n);
        }
        byte[] bytes = v instanceof byte[] b ? b : v.toString().getBytes(StandardCharsets.UTF_8);
        return TEXT.contains(c.dataType()) ? CHARSETS.get(c.charset()).apply(bytes) : ByteBuffer.wrap(bytes);
    }

    /** The binlog carries unsigned integers in their signed form of the column's width. */
    private static long unsignedOf(String type, long n) {
        return switch (type) {
            case "tinyint" -> n & 0xFFL;
            case "smallint" -> n & 0xFFFFL;
            case "mediumint" -> n & 0xFFFFFFL;
            case "int" -> n & 0xFFFFFFFFL;
            default -> n;
        };
    }

    /** {@code key > (?, ...)}, in key order; binds {@link #size()}·(size+1)/2 values: see {@link #bindAfter}. */
    String after() {
        return compare(">");
    }

    /** {@code key <= (?, ...)}; binds as {@link #after()}. */
    String atMost() {
        return "NOT (" + compare(">") + ")";
    }

    private String compare(String op) {
        List<String> terms = new ArrayList<>();
        for (int i = 0; i < columns.size(); i++) {
            List<String> parts = new ArrayList<>();
            for (int j = 0; j < i; j++) {
                parts.add(columns.get(j).quoted() + " = ?");
            }
            parts.add(columns.get(i).quoted() + " " + op + " ?");
            terms.add("(" + String.join(" AND ", parts) + ")");
        }
        return "(" + String.join(" OR ", terms) + ")";
    }

    /** Binds a key for {@link #after()} or {@link #atMost()} from parameter {@code from}; returns the next one. */
    int bindAfter(PreparedStatement ps, int from, Key key) throws SQLException {
        int p = from;
        for (int i = 0; i < columns.size(); i++) {
            for (int j = 0; j <= i; j++) {
                Object v = key.values().get(j);
                ps.setObject(p++, v instanceof ByteBuffer b ? Key.bytes(b) : v);
            }
        }
        return p;
    }

    /**
     * {@code a IN (?, ...)} for {@code n} keys of one column (cheaper to parse and plan), else {@code (a = ? AND
     * b = ?) OR ...}; bound by {@link Key#bind} in turn.
     */
    String in(int n) {
        if (columns.size() == 1) {
            return columns.get(0).quoted() + " IN (" + String.join(", ", java.util.Collections.nCopies(n, "?")) + ")";
        }
        String one = "(" + String.join(" AND ", columns.stream().map(c -> c.quoted() + " = ?").toList()) + ")";
        return "(" + String.join(" OR ", java.util.Collections.nCopies(n, one)) + ")";
    }
}
