package io.shardschema.change;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads what pt-online-schema-change (3.2.1) printed: the warnings that mean its copy changed data, the renames it
 * applied, whether a failure is worth a retry, and a summary a DBA can read. pt-osc prints its real error in the
 * middle and ends with advice; ShardSchema removes the triggers and shadow table itself, so that advice goes.
 */
public final class PtOscOutput {
    /** How pt-osc starts the message of a warning that stopped its copy (and of the one it only warns about). */
    private static final String ROWS_FAILED = "Copying rows caused a MySQL error";
    /**
     * pt-osc warns once about a truncation (1265) and goes on copying: the shadow table then holds changed values.
     * Other warnings stop it ({@code Copying rows caused a MySQL error NNNN:} followed by the message lines).
     */
    private static final Pattern DATA_WARNING = Pattern.compile("^" + ROWS_FAILED + " (\\d+): (.+)$");
    private static final Pattern RENAME = Pattern.compile("^  (.+) to (.+)$");
    private static final Pattern ERROR = Pattern.compile("(?i)error|cannot|can't|failed|you are trying|not altered"
            + "|has triggers|duplicate|truncated|denied|unknown|message:|doesn't exist");
    /** pt-osc's advice about leftovers the lifecycle removes itself, and its table of retry settings. */
    private static final Pattern ADVICE = Pattern.compile("^(Not dropping .*|DROP (TRIGGER|TABLE) IF EXISTS .*"
            + "|Operation, tries, wait:|  \\w+, \\d+, [\\d.]+|No slaves found.*|Not checking slave lag.*"
            + "|No more warnings about this MySQL error.*)$");
    /** Failures of the moment (a connection, a lock): the next run may pass. */
    private static final Pattern TRANSIENT = Pattern.compile("(?i)Lost connection|server has gone away|Can't connect"
            + "|Cannot connect|Lock wait timeout|Deadlock found|Too many connections|Query execution was interrupted"
            + "|stopping pt-osc");
    private static final int ERROR_LINES = 12;
    private static final int TAIL_LINES = 8;
    private static final int LINE_CHARS = 500;

    /** Where ShardSchema's own line before each pt-osc run starts (see {@link #header}). */
    private static final String HEADER = "pt-online-schema-change ";

    private final List<String> lines;

    /** The output of the last pt-osc run in {@code text} (a run's output may hold a dry run and a copy). */
    public PtOscOutput(String text) {
        List<String> all = List.of(text.split("\n"));
        int from = 0;
        for (int i = 0; i < all.size(); i++) {
            if (all.get(i).startsWith(HEADER)) {
                from = i;
            }
        }
        this.lines = all.subList(from, all.size());
    }

    /** The line ShardSchema writes before a pt-osc run. */
    public static String header(String mode, String schema, String table, String alter) {
        return HEADER + mode + " on " + schema + "." + table + ": --alter \"" + alter + "\"";
    }

    /** The warnings that mean the copy changed data, as pt-osc printed them; empty when none. */
    public List<String> dataWarnings() {
        return lines.stream().filter(l -> DATA_WARNING.matcher(l).matches()).toList();
    }

    /** The renames pt-osc said it applies (old name, lower case → new name). */
    public Map<String, String> renames() {
        Map<String, String> out = new LinkedHashMap<>();
        boolean in = false;
        for (String line : lines) {
            Matcher m = RENAME.matcher(line);
            if (line.equals("Renaming columns:")) {
                in = true;
            } else if (in && m.matches()) {
                out.put(m.group(1).toLowerCase(Locale.ROOT), m.group(2));
            } else {
                in = false;
            }
        }
        return out;
    }

    /** Whether pt-osc stopped its copy on a warning about the rows (a NULL for a NOT NULL column, say). */
    public boolean failedOnRows() {
        return lines.stream().anyMatch(l -> l.contains(ROWS_FAILED));
    }

    /** Whether the failure came from a connection or a lock, not from the change or the table. */
    public boolean transientFailure() {
        return lines.stream().anyMatch(l -> TRANSIENT.matcher(l).find());
    }

    /**
     * The first error lines (where pt-osc says what went wrong) and the last lines, without the advice that no
     * longer applies; repeated lines once.
     */
    public String summary() {
        List<String> kept = lines.stream().filter(l -> !ADVICE.matcher(l).matches() && !l.isBlank())
                .map(l -> l.length() > LINE_CHARS ? l.substring(0, LINE_CHARS) + " …" : l).toList();
        List<String> out = new ArrayList<>();
        for (String line : kept) {
            if (out.size() < ERROR_LINES && ERROR.matcher(line).find() && !out.contains(line)) {
                out.add(line);
            }
        }
        List<String> tail = kept.subList(Math.max(0, kept.size() - TAIL_LINES), kept.size());
        if (!out.isEmpty() && !tail.stream().allMatch(out::contains)) {
            out.add("…");
        }
        tail.stream().filter(l -> !out.contains(l)).forEach(out::add);
        return String.join("\n", out);
    }
}
