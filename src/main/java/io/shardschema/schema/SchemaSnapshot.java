package io.shardschema.schema;

import com.github.difflib.DiffUtils;
import com.github.difflib.UnifiedDiffUtils;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A shard's schema as a normalised text: its base tables in name order, each as the server prints it minus the
 * AUTO_INCREMENT counter, and a fingerprint of that text. Tables an online change works with for a while (pt-osc's
 * shadow {@code _T_new}, a swapped-out {@code _T_<stamp>_old}) are not part of the schema.
 */
public record SchemaSnapshot(SortedMap<String, String> tables) {
    private static final Pattern TRANSIENT = Pattern.compile("_.+_(new|\\d{14}_old)");

    /** Reads every table of {@code schema}, or only {@code table} when it is not null. */
    public static SchemaSnapshot read(Connection c, String schema, String table) throws SQLException {
        List<String> names = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT TABLE_NAME FROM information_schema.TABLES"
                + " WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'" + (table == null ? "" : " AND TABLE_NAME = ?"))) {
            ps.setString(1, schema);
            if (table != null) {
                ps.setString(2, table);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    names.add(rs.getString(1));
                }
            }
        }
        SortedMap<String, String> tables = new TreeMap<>();
        for (String name : names) {
            if (!TRANSIENT.matcher(name).matches()) {
                tables.put(name, TableDefinition.read(c, schema, name));
            }
        }
        return new SchemaSnapshot(tables);
    }

    /** One table's definition, or {@link TableDefinition#ABSENT}. */
    public String table(String name) {
        return tables.getOrDefault(name, TableDefinition.ABSENT);
    }

    /** The schema as one text: every table's definition followed by ";" and a blank line. */
    public String text() {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> t : tables.entrySet()) {
            sb.append(t.getValue()).append(";\n\n");
        }
        return sb.toString();
    }

    /** SHA-256 of {@link #text}, in hex: equal schemas, equal fingerprints. */
    public String fingerprint() {
        return fingerprint(text());
    }

    /** SHA-256 of a text in hex: of a whole schema's text, or of one table's definition. */
    public static String fingerprint(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A unified diff from {@code this} (labelled {@code fromLabel}) to {@code other}; empty when they are equal. */
    public String diff(SchemaSnapshot other, String fromLabel, String toLabel) {
        return diff(text(), other.text(), fromLabel, toLabel);
    }

    /** A unified diff of two texts, line by line; empty when they are equal. */
    public static String diff(String fromText, String toText, String fromLabel, String toLabel) {
        List<String> from = List.of(fromText.split("\n", -1));
        List<String> to = List.of(toText.split("\n", -1));
        List<String> lines = UnifiedDiffUtils.generateUnifiedDiff(fromLabel, toLabel, from, DiffUtils.diff(from, to), 2);
        return lines.isEmpty() ? "" : String.join("\n", lines) + "\n";
    }
}
