package io.shardschema.config;

import io.shardschema.ShardSchemaException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The key=value configuration file of DESIGN.md. Every key has a default except {@code dbDSN}; without it the
 * tool uses the embedded MariaDB. A bad line or an unknown key is a usage error naming the line or key.
 */
public final class Config {
    public static final Path DEFAULT_FILE = Path.of("/etc/ShardSchema.cnf");
    public static final String ENV_VAR = "SHARDSCHEMA_CONFIG";

    /**
     * The user's own folder: the default home of the control files, run logs and embedded server. Not /tmp, where
     * another local user could make them first (and pause or stop the runners, or plant links that they follow).
     */
    private static final String PRIVATE_DIR = System.getProperty("user.home") + "/.shardschema";

    /** Every key the file may hold, with its default (null: unset). Order is the README's. */
    static final Map<String, String> DEFAULTS = defaults();

    private static Map<String, String> defaults() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("dbDSN", null);
        d.put("throttlingFile", PRIVATE_DIR + "/ShardSchema.throttle");
        d.put("workers", "8");
        d.put("perServerConcurrency", "4");
        d.put("heartbeatSeconds", "5");
        d.put("stallSeconds", "60");
        d.put("maxRuns", "3");
        d.put("retryDelaySeconds", "10");
        d.put("lockWaitTimeoutSeconds", "10");
        d.put("stopFile", PRIVATE_DIR + "/ShardSchema.stop");
        d.put("ptOscPath", "pt-online-schema-change");
        d.put("onlinePerServer", "1");
        d.put("guardTableRows", "2000000");
        d.put("guardCopyRows", "100000");
        d.put(PasswordHosts.KEY, null);
        d.put("defaultsFile", null);
        d.put("logDir", PRIVATE_DIR + "/logs");
        d.put("pendingDropsDb", "_pending_drops");
        d.put("trashRetentionDays", "7");
        d.put("hostOverride", null);
        d.put("portOverride", null);
        d.put("databaseOverride", null);
        d.put("apiToken", null);
        d.put("apiOpenReads", "true");
        d.put("apiHostNames", null);
        d.put("embeddedDir", PRIVATE_DIR);
        return d;
    }

    /** The most workers one runner may have (`workers`, `run --workers`): each is a thread and a catalog connection. */
    public static final int MAX_WORKERS = 1024;

    /** A whole number key's allowed values. */
    private record Range(long min, long max) {
        @Override
        public String toString() {
            return "a whole number in " + min + ".." + max;
        }
    }

    /**
     * The range of each number key: bounds that keep the runner's arithmetic (stall checks, retry delays, pool
     * sizes) far from overflow, each well above any sensible setting.
     */
    private static final Map<String, Range> NUMBERS = Map.ofEntries(
            Map.entry("workers", new Range(1, MAX_WORKERS)),
            Map.entry("perServerConcurrency", new Range(1, MAX_WORKERS)),
            Map.entry("heartbeatSeconds", new Range(1, 3600)),
            Map.entry("stallSeconds", new Range(1, 7 * 86400)),
            // log.run is a tinyint unsigned: no task can have more runs.
            Map.entry("maxRuns", new Range(1, 255)),
            Map.entry("retryDelaySeconds", new Range(0, 86400)),
            // The server's own limit for lock_wait_timeout (one year).
            Map.entry("lockWaitTimeoutSeconds", new Range(1, 31_536_000)),
            Map.entry("onlinePerServer", new Range(1, MAX_WORKERS)),
            Map.entry("guardTableRows", new Range(0, 1_000_000_000_000L)),
            Map.entry("guardCopyRows", new Range(0, 1_000_000_000_000L)),
            Map.entry("trashRetentionDays", new Range(0, 36500)),
            Map.entry("portOverride", new Range(1, 65535)));

    /** An unquoted value ends where a comment starts: a '#' after white space. */
    private static final Pattern UNQUOTED = Pattern.compile("(.*?)(?:\\s#.*)?", Pattern.DOTALL);
    /** A quoted value ends at its closing quote; only white space and a comment may follow. */
    private static final Pattern QUOTED = Pattern.compile("([\"'])(.*?)\\1\\s*(?:#.*)?", Pattern.DOTALL);
    /** What MariaDB and MySQL accept as a database name without quoting trouble, as for table names. */
    private static final Pattern DATABASE_NAME = Pattern.compile("[A-Za-z0-9_$]{1,64}");
    private static final List<String> SYSTEM_DATABASES = List.of("mysql", "information_schema", "performance_schema", "sys");

    private final Map<String, String> values;
    private final Path source;

    private Config(Map<String, String> values, Path source) {
        this.values = values;
        this.source = source;
        validate();
    }

    /**
     * The config in force: {@code --config FILE}, else {@code $SHARDSCHEMA_CONFIG}, else /etc/ShardSchema.cnf if
     * it exists, else the defaults (embedded catalog). A file named explicitly must exist.
     */
    public static Config resolve(Path explicit, Map<String, String> env) {
        if (explicit != null) {
            return load(explicit);
        }
        String fromEnv = env.get(ENV_VAR);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return load(Path.of(fromEnv));
        }
        if (Files.isRegularFile(DEFAULT_FILE)) {
            return load(DEFAULT_FILE);
        }
        return new Config(new LinkedHashMap<>(DEFAULTS), null);
    }

    public static Config load(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw ShardSchemaException.usage("cannot read config file " + file + ": " + e.getMessage());
        }
        Map<String, String> v = new LinkedHashMap<>(DEFAULTS);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
                continue;
            }
            String where = file + " line " + (i + 1);
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw ShardSchemaException.usage(where + ": expected key=value");
            }
            String key = line.substring(0, eq).strip();
            if (!key.matches("[A-Za-z]+")) {
                // Not a key at all (perhaps a pasted DSN): say so without echoing it, it may hold a password.
                throw ShardSchemaException.usage(where + ": expected key=value with a key of letters only");
            }
            if (!DEFAULTS.containsKey(key)) {
                throw ShardSchemaException.usage(where + ": unknown key '" + key + "'; known keys: "
                        + String.join(", ", DEFAULTS.keySet()));
            }
            v.put(key, value(where, line.substring(eq + 1)));
        }
        return new Config(v, file);
    }

    /** The value of a line: quoted (kept as written between the quotes) or up to a ` #` comment, stripped. */
    private static String value(String where, String text) {
        String value = text.strip();
        if (value.startsWith("\"") || value.startsWith("'")) {
            Matcher quoted = QUOTED.matcher(value);
            if (!quoted.matches()) {
                throw ShardSchemaException.usage(where + ": a quoted value must end with its quote (only a # comment"
                        + " may follow)");
            }
            return quoted.group(2);
        }
        Matcher unquoted = UNQUOTED.matcher(text);
        unquoted.matches();
        return unquoted.group(1).strip();
    }

    private void validate() {
        if (values.get("dbDSN") != null) {
            Dsn.parse(values.get("dbDSN"));
        }
        NUMBERS.forEach((key, range) -> {
            if (values.get(key) != null) {
                number(key);
            }
        });
        if (!List.of("true", "false").contains(values.get("apiOpenReads").strip())) {
            throw badValue("apiOpenReads", "true or false");
        }
        if (!apiHostNames().stream().allMatch(n -> n.matches("[a-z0-9]([a-z0-9.-]*[a-z0-9])?"))) {
            throw badValue("apiHostNames", "a comma-separated list of host names");
        }
        defaultsFileHosts();
        if (values.get("hostOverride") != null) {
            try {
                Dsn.tcp(null, null, values.get("hostOverride"), Dsn.DEFAULT_PORT, null);
            } catch (ShardSchemaException e) {
                throw ShardSchemaException.usage(origin() + "hostOverride: " + e.getMessage());
            }
        }
        String pendingDropsDb = pendingDropsDb();
        if (!DATABASE_NAME.matcher(pendingDropsDb).matches()
                || SYSTEM_DATABASES.contains(pendingDropsDb.toLowerCase(Locale.ROOT))) {
            throw badValue("pendingDropsDb", "a database name of 1-64 letters, digits, _ or $ (and not a system"
                    + " database such as mysql)");
        }
        // One late heartbeat must not look like a dead runner: leave room for a few.
        if (stallSeconds() < 3 * heartbeatSeconds()) {
            throw ShardSchemaException.usage(origin() + "stallSeconds (" + stallSeconds()
                    + ") must be at least 3 times heartbeatSeconds (" + heartbeatSeconds() + ")");
        }
    }

    private String origin() {
        return source == null ? "" : source + ": ";
    }

    /** A number key's value, within its range (checked when the config loads). */
    private long number(String key) {
        Range range = NUMBERS.get(key);
        long n;
        try {
            n = Long.parseLong(values.get(key).strip());
        } catch (NumberFormatException e) {
            throw badValue(key, range.toString());
        }
        if (n < range.min() || n > range.max()) {
            throw badValue(key, range.toString());
        }
        return n;
    }

    private int integer(String key) {
        return Math.toIntExact(number(key));
    }

    private ShardSchemaException badValue(String key, String expected) {
        return ShardSchemaException.usage(origin() + key + " = '" + values.get(key) + "' is not " + expected);
    }

    public Optional<Dsn> catalogDsn() {
        return Optional.ofNullable(values.get("dbDSN")).map(Dsn::parse);
    }

    public boolean embedded() {
        return values.get("dbDSN") == null;
    }

    public Path throttlingFile() {
        return Path.of(values.get("throttlingFile"));
    }

    public int workers() {
        return integer("workers");
    }

    public int perServerConcurrency() {
        return integer("perServerConcurrency");
    }

    public int heartbeatSeconds() {
        return integer("heartbeatSeconds");
    }

    public int stallSeconds() {
        return integer("stallSeconds");
    }

    public int maxRuns() {
        return integer("maxRuns");
    }

    public int retryDelaySeconds() {
        return integer("retryDelaySeconds");
    }

    public int lockWaitTimeoutSeconds() {
        return integer("lockWaitTimeoutSeconds");
    }

    public Path stopFile() {
        return Path.of(values.get("stopFile"));
    }

    public Optional<Path> defaultsFile() {
        return Optional.ofNullable(values.get("defaultsFile")).map(Path::of);
    }

    /** The servers that may receive the defaultsFile password. */
    public PasswordHosts defaultsFileHosts() {
        try {
            return PasswordHosts.parse(values.get(PasswordHosts.KEY));
        } catch (ShardSchemaException e) {
            throw ShardSchemaException.usage(origin() + e.getMessage());
        }
    }

    public String ptOscPath() {
        return values.get("ptOscPath");
    }

    /** Online changes (pt-osc) that may run at once on one server, on top of perServerConcurrency. */
    public int onlinePerServer() {
        return integer("onlinePerServer");
    }

    /** Rows above which a sql change that blocks writes (INPLACE with a lock) is refused without --force. */
    public long guardTableRows() {
        return number("guardTableRows");
    }

    /** Rows above which a sql change that copies the table (rewrites every row, blocking writes) is refused. */
    public long guardCopyRows() {
        return number("guardCopyRows");
    }

    public Path logDir() {
        return Path.of(values.get("logDir"));
    }

    public String pendingDropsDb() {
        return values.get("pendingDropsDb");
    }

    public int trashRetentionDays() {
        return integer("trashRetentionDays");
    }

    public Optional<String> hostOverride() {
        return Optional.ofNullable(values.get("hostOverride"));
    }

    public Optional<Integer> portOverride() {
        return Optional.ofNullable(values.get("portOverride")).map(s -> integer("portOverride"));
    }

    public Optional<String> databaseOverride() {
        return Optional.ofNullable(values.get("databaseOverride"));
    }

    /** The token every change over HTTP must carry; none: the API accepts no change. */
    public Optional<String> apiToken() {
        return Optional.ofNullable(values.get("apiToken")).filter(t -> !t.isEmpty());
    }

    /** Whether HTTP reads (API GETs, /metrics) are open to anyone who can reach the port, or need the token too. */
    public boolean apiOpenReads() {
        return values.get("apiOpenReads").strip().equals("true");
    }

    /** Names, besides this machine's own, that HTTP requests may give in their Host header (lower case). */
    public List<String> apiHostNames() {
        String names = values.get("apiHostNames");
        return names == null ? List.of() : java.util.Arrays.stream(names.split(",")).map(String::strip)
                .filter(n -> !n.isEmpty()).map(n -> n.toLowerCase(java.util.Locale.ROOT)).toList();
    }

    public Path embeddedDir() {
        return Path.of(values.get("embeddedDir"));
    }

    /** A copy with some keys replaced (used by the CLI's --workers and by the demo). */
    public Config with(String key, String value) {
        if (!DEFAULTS.containsKey(key)) {
            throw new IllegalArgumentException(key);
        }
        Map<String, String> v = new LinkedHashMap<>(values);
        v.put(key, value);
        return new Config(v, source);
    }
}
