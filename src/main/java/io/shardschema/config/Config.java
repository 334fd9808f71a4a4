package io.shardschema.config;

import io.shardschema.ShardSchemaException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The key=value configuration file of DESIGN.md. Every key has a default except {@code dbDSN}; without it the
 * tool uses the embedded MariaDB. A bad line or an unknown key is a usage error naming the line or key.
 */
public final class Config {
    public static final Path DEFAULT_FILE = Path.of("/etc/ShardSchema.cnf");
    public static final String ENV_VAR = "SHARDSCHEMA_CONFIG";

    /** Every key the file may hold, with its default (null: unset). Order is the README's. */
    static final Map<String, String> DEFAULTS = defaults();

    private static Map<String, String> defaults() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("dbDSN", null);
        d.put("throttlingFile", "/tmp/ShardSchema.throttle");
        d.put("workers", "8");
        d.put("perServerConcurrency", "4");
        d.put("heartbeatSeconds", "5");
        d.put("stallSeconds", "60");
        d.put("maxRuns", "3");
        d.put("retryDelaySeconds", "10");
        d.put("lockWaitTimeoutSeconds", "10");
        d.put("stopFile", "/tmp/ShardSchema.stop");
        d.put("ptOscPath", "pt-online-schema-change");
        d.put("onlinePerServer", "1");
        d.put("guardTableRows", "2000000");
        d.put("guardCopyRows", "100000");
        d.put(PasswordHosts.KEY, null);
        d.put("defaultsFile", null);
        d.put("logDir", "/tmp/shardschema-logs");
        d.put("pendingDropsDb", "_pending_drops");
        d.put("trashRetentionDays", "7");
        d.put("hostOverride", null);
        d.put("portOverride", null);
        d.put("databaseOverride", null);
        d.put("apiToken", null);
        d.put("apiOpenReads", "true");
        d.put("apiHostNames", null);
        d.put("embeddedDir", System.getProperty("user.home") + "/.shardschema");
        return d;
    }

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
            v.put(key, unquote(where, line.substring(eq + 1).strip()));
        }
        return new Config(v, file);
    }

    private static String unquote(String where, String value) {
        if (value.length() >= 2 && (value.startsWith("\"") && value.endsWith("\"")
                || value.startsWith("'") && value.endsWith("'"))) {
            return value.substring(1, value.length() - 1);
        }
        if (value.startsWith("\"") || value.startsWith("'")) {
            throw ShardSchemaException.usage(where + ": unterminated quote");
        }
        return value;
    }

    private void validate() {
        if (values.get("dbDSN") != null) {
            Dsn.parse(values.get("dbDSN"));
        }
        for (String key : List.of("workers", "perServerConcurrency", "heartbeatSeconds", "stallSeconds", "maxRuns",
                "lockWaitTimeoutSeconds", "onlinePerServer")) {
            positive(key);
        }
        nonNegative("retryDelaySeconds");
        nonNegative("trashRetentionDays");
        nonNegative("guardTableRows");
        nonNegative("guardCopyRows");
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
        if (values.get("portOverride") != null) {
            int port = positive("portOverride");
            if (port > 65535) {
                throw badValue("portOverride", "a port in 1..65535");
            }
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

    private int positive(String key) {
        int n = integer(key);
        if (n < 1) {
            throw badValue(key, "a whole number of at least 1");
        }
        return n;
    }

    private void nonNegative(String key) {
        if (integer(key) < 0) {
            throw badValue(key, "a whole number of at least 0");
        }
    }

    private int integer(String key) {
        try {
            return Integer.parseInt(values.get(key).strip());
        } catch (NumberFormatException e) {
            throw badValue(key, "a whole number");
        }
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
        return integer("guardTableRows");
    }

    /** Rows above which a sql change that copies the table (rewrites every row, blocking writes) is refused. */
    public long guardCopyRows() {
        return integer("guardCopyRows");
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
        return Optional.ofNullable(values.get("portOverride")).map(s -> Integer.parseInt(s.strip()));
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
