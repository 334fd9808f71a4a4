package io.shardschema.change;

import io.shardschema.ShardSchemaException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The pt-online-schema-change options a version may carry: throttling and chunking only. Everything that decides
 * what happens to the tables (swap, drops, triggers, the alter itself) belongs to ShardSchema's lifecycle.
 */
public final class PtOscOptions {
    private static final Pattern NUMBER = Pattern.compile("\\d+(\\.\\d+)?");
    private static final Pattern STATUS_LIMITS = Pattern.compile("[A-Za-z_]+[:=]\\d+(,[A-Za-z_]+[:=]\\d+)*");
    private static final Pattern CHUNK_SIZE = Pattern.compile("\\d+[kKmMgG]?");
    private static final Pattern INDEX_NAME = Pattern.compile("[A-Za-z0-9_$]{1,64}");

    private static final Map<String, Pattern> ALLOWED = Map.of(
            "max-lag", NUMBER,
            "max-load", STATUS_LIMITS,
            "critical-load", STATUS_LIMITS,
            "chunk-size", CHUNK_SIZE,
            "chunk-time", NUMBER,
            "chunk-size-limit", NUMBER,
            "chunk-index", INDEX_NAME,
            "sleep", NUMBER,
            "check-interval", NUMBER,
            "recursion-method", Pattern.compile("none|processlist|hosts"));

    private static final Set<String> MANAGED = Set.of("alter", "execute", "dry-run", "swap-tables", "no-swap-tables",
            "drop-old-table", "no-drop-old-table", "drop-new-table", "no-drop-new-table", "drop-triggers",
            "no-drop-triggers", "pause-file", "defaults-file", "new-table-name", "user", "password", "host", "port",
            "progress");

    private PtOscOptions() {
    }

    /** Parses {@code name=value} specs (as given to {@code --option}); refuses anything not on the allow-list. */
    public static Map<String, String> parse(List<String> specs) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String spec : specs) {
            int eq = spec.indexOf('=');
            if (eq <= 0) {
                throw ShardSchemaException.usage("--option '" + spec + "' is not name=value (e.g. max-lag=1)");
            }
            String name = spec.substring(0, eq).strip().replaceFirst("^--", "");
            String value = spec.substring(eq + 1).strip();
            if (MANAGED.contains(name)) {
                throw ShardSchemaException.usage("--option " + name + ": ShardSchema sets this itself");
            }
            Pattern valid = ALLOWED.get(name);
            if (valid == null) {
                throw ShardSchemaException.usage("--option " + name + " is not allowed; allowed: "
                        + String.join(", ", new java.util.TreeSet<>(ALLOWED.keySet())));
            }
            if (!valid.matcher(value).matches()) {
                throw ShardSchemaException.usage("--option " + name + "=" + value + ": not a valid value for " + name);
            }
            out.put(name, value);
        }
        return out;
    }

    /** The command-line arguments of validated options. */
    public static List<String> arguments(Map<String, String> options) {
        List<String> args = new ArrayList<>();
        options.forEach((name, value) -> {
            args.add("--" + name);
            args.add(value);
        });
        return args;
    }
}
