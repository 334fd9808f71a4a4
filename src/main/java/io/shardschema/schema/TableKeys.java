package io.shardschema.schema;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The unique keys and foreign keys of a table, read from its definition as the server prints it ({@code SHOW
 * CREATE TABLE}: one key per line, names quoted with backticks).
 */
public final class TableKeys {
    private static final Pattern UNIQUE = Pattern.compile("^\\s*(?:PRIMARY KEY|UNIQUE KEY `((?:[^`]|``)*)`)\\s*\\((.*)\\)"
            + "(?: USING \\w+)?[^()]*,?$", Pattern.MULTILINE);
    private static final Pattern PART = Pattern.compile("`((?:[^`]|``)+)`(?:\\((\\d+)\\))?(?: (?:ASC|DESC))?");
    private static final Pattern FOREIGN = Pattern.compile("^\\s*CONSTRAINT `(?:[^`]|``)*` FOREIGN KEY .* REFERENCES"
            + " `((?:[^`]|``)+)`", Pattern.MULTILINE);

    /** One column of a key: its name and prefix length (0 for the whole column). */
    public record Part(String column, int prefix) {
    }

    /** A unique key: its name ({@code PRIMARY} for the primary key) and its columns. */
    public record Unique(String name, List<Part> parts) {
    }

    private static final Pattern COLUMN = Pattern.compile("^  `((?:[^`]|``)+)` ", Pattern.MULTILINE);

    private TableKeys() {
    }

    /** The table's column names, lower case. */
    public static List<String> columns(String definition) {
        List<String> out = new ArrayList<>();
        Matcher m = COLUMN.matcher(definition);
        while (m.find()) {
            out.add(m.group(1).replace("``", "`").toLowerCase(java.util.Locale.ROOT));
        }
        return out;
    }

    public static List<Unique> unique(String definition) {
        List<Unique> out = new ArrayList<>();
        Matcher m = UNIQUE.matcher(definition);
        while (m.find()) {
            List<Part> parts = new ArrayList<>();
            Matcher p = PART.matcher(m.group(2));
            while (p.find()) {
                parts.add(new Part(p.group(1).replace("``", "`"), p.group(2) == null ? 0 : Integer.parseInt(p.group(2))));
            }
            out.add(new Unique(m.group(1) == null ? "PRIMARY" : m.group(1).replace("``", "`"), parts));
        }
        return out;
    }

    /** The unique keys of {@code after} whose columns no unique key of {@code before} has. */
    public static List<Unique> added(String before, String after) {
        List<List<Part>> existing = unique(before).stream().map(Unique::parts).toList();
        return unique(after).stream().filter(k -> !existing.contains(k.parts())).toList();
    }

    /** The tables {@code definition}'s foreign keys reference (itself included). */
    public static List<String> referenced(String definition) {
        List<String> out = new ArrayList<>();
        Matcher m = FOREIGN.matcher(definition);
        while (m.find()) {
            out.add(m.group(1).replace("``", "`"));
        }
        return out;
    }
}
