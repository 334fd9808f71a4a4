package io.shardschema.schema;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The rollback of a simple change, read off the table's definition before and after it: a created table is
 * dropped; columns and indexes that were only added are dropped again. Anything else (a changed or removed line,
 * new table options) has no derived rollback: the DBA gives one.
 */
public final class DerivedRollback {
    private static final Pattern COLUMN = Pattern.compile("`((?:[^`]|``)+)` .*");
    private static final Pattern INDEX = Pattern.compile("(?:UNIQUE |FULLTEXT |SPATIAL )?KEY `((?:[^`]|``)+)` .*");

    private DerivedRollback() {
    }

    /** The rollback statement (a whole DROP TABLE, or the body of an ALTER TABLE), if the change is simple. */
    public static Optional<String> of(String table, String before, String after) {
        if (before.equals(TableDefinition.ABSENT) && !after.equals(TableDefinition.ABSENT)) {
            return Optional.of("DROP TABLE " + Sql.quote(table));
        }
        if (before.equals(TableDefinition.ABSENT) || after.equals(TableDefinition.ABSENT) || before.equals(after)) {
            return Optional.empty();
        }
        List<String> beforeLines = lines(before);
        List<String> afterLines = lines(after);
        // Every line of before must still be there, in order, with only new lines in between.
        List<String> drops = new ArrayList<>();
        int i = 0;
        for (String line : afterLines) {
            if (i < beforeLines.size() && beforeLines.get(i).equals(line)) {
                i++;
                continue;
            }
            Matcher column = COLUMN.matcher(line);
            Matcher index = INDEX.matcher(line);
            if (column.matches()) {
                drops.add("DROP COLUMN `" + column.group(1) + "`");
            } else if (index.matches()) {
                drops.add("DROP INDEX `" + index.group(1) + "`");
            } else {
                return Optional.empty();
            }
        }
        return i == beforeLines.size() && !drops.isEmpty() ? Optional.of(String.join(", ", drops)) : Optional.empty();
    }

    /** The definition's lines, trimmed and without the commas that separate them (the last one has none). */
    private static List<String> lines(String definition) {
        List<String> out = new ArrayList<>();
        for (String line : definition.split("\n")) {
            String l = line.strip();
            out.add(l.endsWith(",") ? l.substring(0, l.length() - 1) : l);
        }
        return out;
    }
}
