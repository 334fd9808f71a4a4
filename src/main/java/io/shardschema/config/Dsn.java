package io.shardschema.config;

import io.shardschema.ShardSchemaException;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A data source name: where a MySQL/MariaDB server is and how to log in. Accepts the Go driver form
 * {@code user:pass@tcp(host:port)/db?k=v} (and {@code user@unix(/path)/db}) and JDBC URLs
 * ({@code jdbc:mariadb://host:port/db?user=u&password=p}). {@link #toString()} never shows the password.
 */
public final class Dsn {
    public static final int DEFAULT_PORT = 3306;
    private static final Pattern JDBC = Pattern.compile("jdbc:(mariadb|mysql)://([^/?]*)(?:/([^?]*))?(?:\\?(.*))?",
            Pattern.CASE_INSENSITIVE);
    private static final String FORMS = "expected user:password@tcp(host:port)/database, user@unix(/path/to.sock)/database"
            + " or jdbc:mariadb://host:port/database?user=...";
    /** The longest connect timeout (timeout=): far above any sensible one, and within the driver's int millis. */
    private static final Duration MAX_TIMEOUT = Duration.ofHours(1);

    private final String user;
    private final String password;
    private final String host;
    private final int port;
    private final String socket;
    private final String database;
    private final Map<String, String> params;

    private Dsn(String user, String password, String host, int port, String socket, String database,
                Map<String, String> params) {
        this.user = user == null || user.isEmpty() ? null : user;
        this.password = password == null || password.isEmpty() ? null : password;
        this.host = host;
        this.port = port;
        this.socket = socket;
        this.database = database == null || database.isEmpty() ? null : database;
        this.params = Map.copyOf(params);
    }

    public static Dsn tcp(String user, String password, String host, int port, String database) {
        return new Dsn(user, password, host, port, null, database, Map.of());
    }

    /** Parses either form; a malformed DSN is a usage error whose message shows the DSN with its password masked. */
    public static Dsn parse(String text) {
        if (text == null || text.isBlank()) {
            throw ShardSchemaException.usage("empty DSN: " + FORMS);
        }
        String dsn = text.trim();
        return dsn.regionMatches(true, 0, "jdbc:", 0, 5) ? parseJdbc(dsn) : parseGo(dsn);
    }

    private static Dsn parseGo(String dsn) {
        // The credentials end at the '@' that starts the address; the password may hold '@', '(', '/' or '?'.
        int at = Math.max(dsn.lastIndexOf("@tcp("), dsn.lastIndexOf("@unix("));
        if (at < 0 && !dsn.startsWith("tcp(") && !dsn.startsWith("unix(")) {
            at = dsn.lastIndexOf('@');
        }
        String credentials = at < 0 ? "" : dsn.substring(0, at);
        String rest = dsn.substring(at + 1);
        String host = "127.0.0.1";
        int port = DEFAULT_PORT;
        String socket = null;
        if (!rest.startsWith("/")) {
            int close = rest.indexOf(')');
            int open = rest.indexOf('(');
            if (open < 0 || close < open) {
                throw malformed(dsn, "expected tcp(host:port) or unix(/path) after '@'");
            }
            String protocol = rest.substring(0, open);
            String address = rest.substring(open + 1, close);
            if (protocol.equals("unix")) {
                if (address.isEmpty()) {
                    throw malformed(dsn, "unix() needs a socket path");
                }
                socket = address;
                host = "localhost";
            } else if (protocol.equals("tcp")) {
                String[] hostPort = splitHostPort(dsn, address);
                host = hostPort[0];
                port = hostPort[1] == null ? DEFAULT_PORT : parsePort(dsn, hostPort[1]);
            } else {
                throw malformed(dsn, "protocol '" + protocol + "' is not tcp or unix");
            }
            rest = rest.substring(close + 1);
        }
        if (!rest.startsWith("/")) {
            throw malformed(dsn, "no '/database' part after the address");
        }
        int query = rest.indexOf('?');
        String database = query < 0 ? rest.substring(1) : rest.substring(1, query);
        Map<String, String> params = parseQuery(dsn, query < 0 ? null : rest.substring(query + 1));
        int colon = credentials.indexOf(':');
        String user = colon < 0 ? credentials : credentials.substring(0, colon);
        String password = colon < 0 ? null : credentials.substring(colon + 1);
        return new Dsn(user, password, host, port, socket, database, params);
    }

    private static Dsn parseJdbc(String dsn) {
        Matcher m = JDBC.matcher(dsn);
        if (!m.matches()) {
            throw malformed(dsn, "not a jdbc:mariadb:// or jdbc:mysql:// URL");
        }
        if (m.group(2).contains("@")) {
            throw malformed(dsn, "put user and password in ?user=...&password=..., not before the host");
        }
        String[] hostPort = splitHostPort(dsn, m.group(2));
        int port = hostPort[1] == null ? DEFAULT_PORT : parsePort(dsn, hostPort[1]);
        Map<String, String> params = parseQuery(dsn, m.group(4));
        String user = params.remove("user");
        String password = params.remove("password");
        return new Dsn(user, password, hostPort[0], port, params.remove("localSocket"), m.group(3), params);
    }

    private static String[] splitHostPort(String dsn, String hostPort) {
        if (hostPort.isEmpty()) {
            throw malformed(dsn, "host is missing");
        }
        if (hostPort.startsWith("[")) {
            int end = hostPort.indexOf(']');
            if (end < 0) {
                throw malformed(dsn, "unclosed '[' in IPv6 address");
            }
            String rest = hostPort.substring(end + 1);
            if (!rest.isEmpty() && !rest.startsWith(":")) {
                throw malformed(dsn, "unexpected text after IPv6 address");
            }
            return new String[]{hostPort.substring(1, end), rest.isEmpty() ? null : rest.substring(1)};
        }
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0) {
            return new String[]{hostPort, null};
        }
        if (colon == 0) {
            throw malformed(dsn, "host is missing");
        }
        return new String[]{hostPort.substring(0, colon), hostPort.substring(colon + 1)};
    }

    private static int parsePort(String dsn, String text) {
        try {
            int port = Integer.parseInt(text);
            if (port < 1 || port > 65535) {
                throw malformed(dsn, "port " + port + " is outside 1..65535");
            }
            return port;
        } catch (NumberFormatException e) {
            throw malformed(dsn, "port '" + text + "' is not a number");
        }
    }

    private static Map<String, String> parseQuery(String dsn, String query) {
        Map<String, String> params = new LinkedHashMap<>();
        if (query == null || query.isEmpty()) {
            return params;
        }
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw malformed(dsn, "option '" + maskIfSecret(pair) + "' is not key=value");
            }
            try {
                params.put(decode(pair.substring(0, eq)), decode(pair.substring(eq + 1)));
            } catch (IllegalArgumentException e) {
                throw malformed(dsn, "option '" + maskIfSecret(pair) + "' has a bad %-escape");
            }
        }
        return params;
    }

    /** Percent-decoding only: a '+' stays a '+' (it is common in passwords and paths). */
    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static String maskIfSecret(String pair) {
        return pair.toLowerCase(Locale.ROOT).contains("password") ? pair.replaceAll("=.*", "=***") : pair;
    }

    private static ShardSchemaException malformed(String dsn, String why) {
        return ShardSchemaException.usage("malformed DSN '" + mask(dsn) + "': " + why + "; " + FORMS);
    }

    /** The DSN text with anything that may be a password replaced by ***; safe for messages. */
    public static String mask(String dsn) {
        String masked = dsn.replaceAll("(?i)([a-z]*password=)[^&]*", "$1***");
        if (masked.regionMatches(true, 0, "jdbc:", 0, 5)) {
            // user:password@ before the host is refused by parse, but must not show in its message either.
            return masked.replaceAll("//[^/?]*@", "//***@");
        }
        int at = Math.max(masked.lastIndexOf("@tcp("), masked.lastIndexOf("@unix("));
        if (at < 0) {
            at = masked.lastIndexOf('@');
        }
        int colon = masked.indexOf(':');
        if (at > 0 && colon >= 0 && colon < at) {
            return masked.substring(0, colon + 1) + "***" + masked.substring(at);
        }
        return masked;
    }

    public String user() {
        return user;
    }

    public String password() {
        return password;
    }

    public boolean hasPassword() {
        return password != null || params.keySet().stream().anyMatch(k -> k.toLowerCase(Locale.ROOT).contains("password"));
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public String socket() {
        return socket;
    }

    public String database() {
        return database;
    }

    public Map<String, String> params() {
        return params;
    }

    /** The server this DSN points at, as "host:port" (or the socket path): the key of the per-server budget. */
    public String serverKey() {
        return socket != null ? "unix:" + socket : host.toLowerCase(Locale.ROOT) + ":" + port;
    }

    public Dsn withDatabase(String db) {
        return new Dsn(user, password, host, port, socket, db, params);
    }

    /** The same DSN with no secret: no password, and no option whose name holds "password". */
    public Dsn withoutPassword() {
        Map<String, String> kept = new LinkedHashMap<>(params);
        kept.keySet().removeIf(k -> k.toLowerCase(Locale.ROOT).contains("password"));
        return new Dsn(user, null, host, port, socket, database, kept);
    }

    public Dsn withCredentials(String newUser, String newPassword) {
        return new Dsn(newUser, newPassword, host, port, socket, database, params);
    }

    public Dsn withServer(String newHost, Integer newPort) {
        return new Dsn(user, password, newHost == null ? host : newHost, newPort == null ? port : newPort,
                newHost == null ? socket : null, database, params);
    }

    /** The JDBC URL, without user or password (those go in {@link #jdbcProperties()}). */
    public String jdbcUrl() {
        String hostPart = host.contains(":") ? "[" + host + "]" : host;
        return "jdbc:mariadb://" + hostPart + ":" + port + "/" + (database == null ? "" : database);
    }

    /** Driver properties: credentials, the TLS options translated from the Go driver's names, and the rest as given. */
    public Properties jdbcProperties() {
        Properties p = new Properties();
        if (user != null) {
            p.setProperty("user", user);
        }
        if (password != null) {
            p.setProperty("password", password);
        }
        if (socket != null) {
            p.setProperty("localSocket", socket);
        }
        String clientCert = params.get("ssl-cert");
        String clientKey = params.get("ssl-key");
        if (clientCert != null || clientKey != null) {
            if (clientCert == null || clientKey == null) {
                throw ShardSchemaException.usage("DSN " + this + ": ssl-cert and ssl-key go together");
            }
            ClientCertificate.KeyStoreFile store = ClientCertificate.keyStore(clientCert, clientKey);
            p.setProperty("keyStore", store.path().toString());
            p.setProperty("keyStorePassword", store.password());
            p.setProperty("keyStoreType", "PKCS12");
        }
        for (Map.Entry<String, String> e : params.entrySet()) {
            String key = e.getKey();
            String value = e.getValue();
            switch (key) {
                case "tls" -> p.setProperty("sslMode", tlsMode(value));
                case "ssl-ca" -> p.setProperty("serverSslCert", value);
                case "ssl-cert", "ssl-key" -> { }
                case "timeout" -> p.setProperty("connectTimeout", String.valueOf(goDurationMillis(value)));
                // Go-driver options with no JDBC meaning.
                case "parseTime", "charset", "collation", "loc", "interpolateParams" -> { }
                default -> p.setProperty(key, value);
            }
        }
        return p;
    }

    private String tlsMode(String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "true", "required", "verify-full" -> "verify-full";
            case "verify-ca" -> "verify-ca";
            case "skip-verify", "trust", "preferred" -> "trust";
            case "false", "disable", "disabled" -> "disable";
            default -> throw ShardSchemaException.usage("DSN " + this + ": tls=" + value
                    + " is not one of true, verify-ca, skip-verify, preferred, false");
        };
    }

    private long goDurationMillis(String value) {
        Matcher m = Pattern.compile("(\\d+)(ms|s|m)?").matcher(value);
        if (!m.matches()) {
            throw ShardSchemaException.usage("DSN " + this + ": timeout=" + value + " is not a duration like 5s");
        }
        Duration unit = m.group(2) == null || m.group(2).equals("s") ? Duration.ofSeconds(1)
                : m.group(2).equals("ms") ? Duration.ofMillis(1) : Duration.ofMinutes(1);
        return Durations.times(m.group(1), unit, MAX_TIMEOUT).orElseThrow(() -> ShardSchemaException.usage("DSN "
                + this + ": timeout=" + value + " is more than " + MAX_TIMEOUT.toMinutes() + "m")).toMillis();
    }

    /** The Go-driver form with the password, for storage where a password is allowed (never the catalog). */
    public String toGoForm(boolean includePassword) {
        StringBuilder sb = new StringBuilder();
        if (user != null) {
            sb.append(user);
            if (password != null) {
                sb.append(':').append(includePassword ? password : "***");
            }
            sb.append('@');
        }
        if (socket != null) {
            sb.append("unix(").append(socket).append(')');
        } else {
            sb.append("tcp(").append(host.contains(":") ? "[" + host + "]" : host).append(':').append(port).append(')');
        }
        sb.append('/');
        if (database != null) {
            sb.append(database);
        }
        if (!params.isEmpty()) {
            StringBuilder q = new StringBuilder();
            params.forEach((k, v) -> q.append(q.length() == 0 ? "?" : "&").append(k).append('=')
                    .append(k.toLowerCase(Locale.ROOT).contains("password") && !includePassword ? "***" : v));
            sb.append(q);
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return toGoForm(false);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Dsn d && Objects.equals(user, d.user) && Objects.equals(password, d.password)
                && host.equals(d.host) && port == d.port && Objects.equals(socket, d.socket)
                && Objects.equals(database, d.database) && params.equals(d.params);
    }

    @Override
    public int hashCode() {
        return Objects.hash(user, host, port, socket, database, params);
    }
}
