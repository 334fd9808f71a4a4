package io.shardschema.change;

import io.shardschema.ShardSchemaException;
import io.shardschema.schema.Sql;
import io.shardschema.schema.TableKeys;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What pt-online-schema-change (3.2.1) makes of a version's ALTER body, decided from the text alone and before any
 * task starts. pt-osc does not parse the ALTER: it finds renamed columns with a regular expression (and copies a
 * column whose new name it missed as if dropped, so its data is lost), does not know {@code RENAME COLUMN}, and
 * runs a table rename or a primary-key change only to fail after the approval. This class reads the ALTER as the
 * server does ({@link StatementLexer}) and as pt-osc does (the same expression), refuses what pt-osc would get
 * wrong, and names the options the rest needs.
 */
public final class PtOscAlter {
    /** pt-osc's own reading of renames ({@code find_renamed_cols}): its comment stripping, then CHANGE a b. */
    private static final Pattern PT_OSC_COMMENT_SINGLE = Pattern.compile("^(.*?)\\s+COMMENT\\s+'(.*?[^\\\\]')+(.*)",
            Pattern.UNIX_LINES);
    private static final Pattern PT_OSC_COMMENT_DOUBLE = Pattern.compile("^(.*?)\\s+COMMENT\\s+\"(.*?[^\\\\]\")+(.*)",
            Pattern.UNIX_LINES);
    private static final String PT_OSC_IDENT = "(?:(?!\\p{Digit}+[.\\s])[0-9a-zA-Z_\\x{80}-\\x{FFFF}$]+"
            + "|`(?:[\\x{01}-\\x{5F}\\x{61}-\\x{FFFF}]+(?:``[\\x{01}-\\x{5F}\\x{61}-\\x{FFFF}]*)*"
            + "|[\\x{01}-\\x{5F}\\x{61}-\\x{FFFF}]*(?:``[\\x{01}-\\x{5F}\\x{61}-\\x{FFFF}]*)+)`"
            + "|\"(?:[^\"]+(?:\"\"[^\"]*)*|[^\"]*(?:\"\"[^\"]*)+)\")";
    private static final Pattern PT_OSC_CHANGE = Pattern.compile("(?<![A-Za-z0-9_])CHANGE\\s+(?:COLUMN\\s+)?(" + PT_OSC_IDENT
            + ")\\s+(" + PT_OSC_IDENT + ")", Pattern.CASE_INSENSITIVE);

    private final Map<String, String> renames;

    private PtOscAlter(Map<String, String> renames) {
        this.renames = renames;
    }

    /**
     * Reads {@code command} (the body of {@code ALTER TABLE table ...}); refuses, saying why and what to do, what
     * pt-osc cannot run safely: a table rename, {@code RENAME COLUMN}, a primary-key drop, foreign keys, and
     * renames that pt-osc would read otherwise than the server.
     */
    public static PtOscAlter read(String table, String command) {
        PtOscAlter first = null;
        // Every sql_mode that changes quoting must read the same renames: a shard's server may run any of them.
        for (StatementLexer.Dialect dialect : StatementLexer.Dialect.ALL) {
            PtOscAlter alter = read(table, command, dialect);
            if (first != null && !sameRenames(first.renames, alter.renames)) {
                throw refused(table, command, "its renames read differently under sql_mode" + dialect.describe(),
                        "quote names with backticks and strings with single quotes, without backslashes");
            }
            first = first == null ? alter : first;
        }
        return first;
    }

    private static PtOscAlter read(String table, String command, StatementLexer.Dialect dialect) {
        List<StatementLexer.Token> tokens = StatementLexer.tokens(ChangeStatement.sql(table, command), dialect);
        Map<String, String> renames = new LinkedHashMap<>();
        int depth = 0;
        boolean clauseStart = true;
        // The first three tokens are ALTER TABLE `t`.
        for (int i = 3; i < tokens.size(); i++) {
            StatementLexer.Token t = tokens.get(i);
            boolean startsClause = clauseStart && depth == 0;
            clauseStart = false;
            if (symbol(t, "(")) {
                depth++;
            } else if (symbol(t, ")")) {
                depth--;
            } else if (symbol(t, ",") && depth == 0) {
                clauseStart = true;
            } else if (word(t, "FOREIGN")) {
                throw refused(table, command, "it adds or drops a foreign key", "pt-osc renames a table's foreign"
                        + " keys and cannot keep child tables pointing at the new table without a blocking step;"
                        + " change tables with foreign keys with --type sql");
            } else if (startsClause && word(t, "RENAME")) {
                StatementLexer.Token next = at(tokens, i + 1);
                if (word(next, "COLUMN")) {
                    throw refused(table, command, "it renames a column with RENAME COLUMN", "pt-osc 3.2.1 does"
                            + " not know that form and would copy the column as if dropped (its data lost); write"
                            + " CHANGE COLUMN old new <definition> instead");
                }
                if (!word(next, "INDEX") && !word(next, "KEY")) {
                    throw refused(table, command, "it renames the table", "a table rename is instant and needs no"
                            + " online copy: add it as --type sql");
                }
            } else if (startsClause && word(t, "DROP") && (word(at(tokens, i + 1), "PRIMARY")
                    || dropsIndexNamedPrimary(tokens, i + 1))) {
                throw refused(table, command, "it drops the primary key", "pt-osc's triggers and chunks rely on the"
                        + " key it would drop; change the primary key with --type sql in a maintenance window");
            } else if (startsClause && word(t, "CHANGE")) {
                int j = i + 1;
                if (word(at(tokens, j), "COLUMN")) {
                    j++;
                }
                if (word(at(tokens, j), "IF") && word(at(tokens, j + 1), "EXISTS")) {
                    j += 2;
                }
                StatementLexer.Token from = at(tokens, j);
                StatementLexer.Token to = at(tokens, j + 1);
                if (from != null && to != null && !from.value().equalsIgnoreCase(to.value())) {
                    if (!ascii(from.value()) || !ascii(to.value())) {
                        throw refused(table, command, "it renames a column with a name beyond ASCII", "pt-osc"
                                + " matches renames on the ALTER's bytes but the table's columns by character, and"
                                + " would not copy such a column (its data lost); rename it with --type sql");
                    }
                    renames.put(from.value().toLowerCase(Locale.ROOT), to.value());
                }
            }
        }
        Map<String, String> ptOsc = ptOscRenames(command);
        if (!sameRenames(ptOsc, renames)) {
            throw refused(table, command, "pt-osc would read its renames as " + show(ptOsc) + " where the server"
                    + " reads " + show(renames), "pt-osc finds renames with a pattern that also matches text such"
                    + " as a COMMENT containing 'change a b'; reword the comment, or run the change as --type sql");
        }
        return new PtOscAlter(renames);
    }

    /**
     * Refuses, from the preflight's tables, a table that takes part in a foreign key: as the child (its own keys,
     * before or after the change) or as the parent (another table's key references it).
     */
    public static void checkForeignKeys(String type, String table, java.util.SortedMap<String, String> before,
                                        String after) {
        List<String> problems = new java.util.ArrayList<>();
        TableKeys.referenced(before.getOrDefault(table, "")).forEach(p -> problems.add(table + " → " + p));
        List<String> had = TableKeys.referenced(before.getOrDefault(table, ""));
        TableKeys.referenced(after == null ? "" : after).stream().filter(p -> !had.contains(p))
                .forEach(p -> problems.add(table + " → " + p + " (added)"));
        before.forEach((other, definition) -> {
            if (!other.equals(table) && TableKeys.referenced(definition).contains(table)) {
                problems.add(other + " → " + table);
            }
        });
        if (!problems.isEmpty()) {
            throw new ShardSchemaException(ShardSchemaException.REFUSED, "refused for --type " + type + ": "
                    + (type.equals("pt-osc") ? foreignKeyRefusal(table, problems) : "the table " + table
                    + " takes part in foreign keys (" + String.join(", ", new java.util.TreeSet<>(problems))
                    + "): the online engine cannot swap such a table without breaking them; change it with --type"
                    + " sql"));
        }
    }

    /** Why a table in {@code foreignKeys} (as child → parent) cannot go through pt-osc. */
    public static String foreignKeyRefusal(String table, java.util.Collection<String> foreignKeys) {
        return "the table " + table + " takes part in foreign keys (" + String.join(", ",
                new java.util.TreeSet<>(foreignKeys)) + "): pt-osc renames a table's foreign keys (fk → _fk, which"
                + " then reads as drift) and repoints child tables only with a blocking or unsafe step; change it"
                + " with --type sql";
    }

    /** Old name (lower case) → new name of each renamed column. */
    public Map<String, String> renames() {
        return renames;
    }

    /**
     * The options this ALTER needs: pt-osc refuses to copy a rename unless told it was checked, which this class
     * did (and the copy's mapping is checked again after it).
     */
    public List<String> arguments() {
        return renames.isEmpty() ? List.of() : List.of("--no-check-alter");
    }

    /** Renames as pt-osc's {@code find_renamed_cols} reads them: old name (lower case) → new name. */
    static Map<String, String> ptOscRenames(String alter) {
        // pt-osc matches its patterns on the ALTER's UTF-8 bytes (one char per byte here, as ISO-8859-1 reads them).
        String bytes = new String(alter.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                java.nio.charset.StandardCharsets.ISO_8859_1);
        String text = PT_OSC_COMMENT_SINGLE.matcher(bytes).replaceFirst("$1$3");
        text = PT_OSC_COMMENT_DOUBLE.matcher(text).replaceFirst("$1$3");
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = PT_OSC_CHANGE.matcher(text);
        while (m.find()) {
            String from = text(unquote(m.group(1)));
            String to = text(unquote(m.group(2)));
            if (!asciiLowerCase(from).equals(asciiLowerCase(to))) {
                out.put(from.toLowerCase(Locale.ROOT), to);
            }
        }
        return out;
    }

    /**
     * A name as pt-osc's {@code ansi_to_legacy} and {@code split_unquote} make it: a '.' splits off a schema (also
     * inside quotes), then one backtick goes at each end.
     */
    private static String unquote(String ident) {
        String name = ident.startsWith("\"") ? "`" + ident.substring(1, ident.length() - 1).replace("\"\"", "\"")
                .replace("`", "``") + "`" : ident;
        String[] parts = name.split("\\.", -1);
        name = parts.length > 1 && !parts[1].isEmpty() ? parts[1] : parts[0];
        return name.replaceFirst("\\A`", "").replaceFirst("`\\z", "").replace("``", "`");
    }

    /** Bytes (one char each) back to text. */
    private static String text(String bytes) {
        return new String(bytes.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1),
                java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Perl's lc on a byte string: ASCII letters only. */
    private static String asciiLowerCase(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        s.chars().forEach(ch -> sb.append(ch >= 'A' && ch <= 'Z' ? (char) (ch + 32) : (char) ch));
        return sb.toString();
    }

    private static boolean ascii(String s) {
        return s.chars().allMatch(ch -> ch < 128);
    }

    /** {@code INDEX|KEY [IF EXISTS] `PRIMARY`}: the primary key under its index name. */
    private static boolean dropsIndexNamedPrimary(List<StatementLexer.Token> tokens, int i) {
        if (!word(at(tokens, i), "INDEX") && !word(at(tokens, i), "KEY")) {
            return false;
        }
        int j = word(at(tokens, i + 1), "IF") && word(at(tokens, i + 2), "EXISTS") ? i + 3 : i + 1;
        StatementLexer.Token name = at(tokens, j);
        return name != null && name.value().equalsIgnoreCase("PRIMARY");
    }

    /** Whether two readings rename the same columns to the same names (names compare without case). */
    public static boolean sameRenames(Map<String, String> a, Map<String, String> b) {
        return lowerCase(a).equals(lowerCase(b));
    }

    private static Map<String, String> lowerCase(Map<String, String> renames) {
        Map<String, String> out = new java.util.TreeMap<>();
        renames.forEach((k, v) -> out.put(k.toLowerCase(Locale.ROOT), v.toLowerCase(Locale.ROOT)));
        return out;
    }

    private static String show(Map<String, String> renames) {
        if (renames.isEmpty()) {
            return "no rename";
        }
        StringBuilder sb = new StringBuilder();
        renames.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(Sql.quote(k)).append(" → ")
                .append(Sql.quote(v)));
        return sb.toString();
    }

    private static StatementLexer.Token at(List<StatementLexer.Token> tokens, int i) {
        return i < tokens.size() ? tokens.get(i) : null;
    }

    private static boolean word(StatementLexer.Token t, String word) {
        return t != null && t.kind() == StatementLexer.Kind.WORD && t.value().equalsIgnoreCase(word);
    }

    private static boolean symbol(StatementLexer.Token t, String symbol) {
        return t.kind() == StatementLexer.Kind.SYMBOL && t.value().equals(symbol);
    }

    private static ShardSchemaException refused(String table, String command, String what, String why) {
        return new ShardSchemaException(ShardSchemaException.REFUSED, "refused for --type pt-osc: ALTER TABLE "
                + table + " " + command + "\n  " + what + ": " + why);
    }
}
