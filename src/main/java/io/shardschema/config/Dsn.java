package io.shardschema.config;

import io.shardschema.Printable;
import io.shardschema.ShardSchemaException;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URLDecoder;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
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
 * <p>
 * The address is checked when a DSN is made: one host name, IPv4 address or IPv6 address, a port of 1..65535, or an
 * absolute socket path, so that no DSN text can name a second server (a JDBC failover list, pt-osc's {@code h=}) or
 * an option file ({@code F=}). The database never goes into a JDBC URL: connections select it after they log in.
 */
public final class Dsn {
    public static final int DEFAULT_PORT = 3306;
    /**
     * The authentication methods the driver may answer with when the DSN does not choose (its own
     * {@code restrictedAuth} wins): none that sends the password in clear, as {@code mysql_clear_password} and PAM's
     * {@code dialog} do, so a server that asks for it gets nothing.
     */
    static final String SAFE_AUTH_METHODS =
            "mysql_native_password,client_ed25519,parsec,caching_sha2_password,auth_gssapi_client";
    /** sun_path of a unix socket address holds 108 bytes, the terminating NUL included. */
    private static final int SOCKET_PATH_MAX_BYTES = 107;
    private static final Pattern HOST_NAME = Pattern.compile(
            "(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*");
    private static final Pattern NUMERIC_HOST = Pattern.compile("[0-9.]+");
    private static final Pattern IPV4 = Pattern.compile("(?:(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}"
            + "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");
    private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]+");
    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m)?");
    private static final long MAX_TIMEOUT_MILLIS = 86_400_000L;
    private static final Pattern SECRET_OPTION = Pattern.compile("[?&][A-Za-z0-9_.-]*password=", Pattern.CASE_INSENSITIVE);
    private static final Pattern OPTION_NAME = Pattern.compile("[?&]([^=&]*)=");
    private static final Pattern JDBC_SCHEME = Pattern.compile("jdbc:[A-Za-z]*:/*", Pattern.CASE_INSENSITIVE);
    /** Driver options that would choose the server by other means than the DSN's address. */
    private static final java.util.Set<String> ADDRESS_OPTIONS = java.util.Set.of("pipe", "socketFactory");
    /**
     * Option names the driver or this class treat specially, in their spelling here: the driver reads option names
     * ignoring case, so a name is brought to this spelling before any check looks at it.
     */
    private static final List<String> SPECIAL_OPTIONS = List.of("user", "password", "localSocket", "pipe",
            "socketFactory", "restrictedAuth", "sslMode");
    private static final Pattern JDBC = Pattern.compile("jdbc:(mariadb|mysql)://([^/?]*)(?:/([^?]*))?(?:\\?(.*))?",
            Pattern.CASE_INSENSITIVE);
    private static final String FORMS = "expected user:password@tcp(host:port)/database, user@unix(/path/to.sock)/database"
            + " or jdbc:mariadb://host:port/database?user=...";

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
        String problem = addressProblem(host, socket);
        if (problem != null) {
            throw ShardSchemaException.usage("bad DSN address: " + problem);
        }
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
        Dsn parsed = isJdbc(dsn) ? parseJdbc(dsn) : parseGo(dsn);
        // Options this class translates are checked now, so a bad one fails where the DSN is read.
        parsed.jdbcOptions();
        return parsed;
    }

    private static boolean isJdbc(String dsn) {
        return dsn.regionMatches(true, 0, "jdbc:", 0, 5);
    }

    /**
     * Where the credentials of a Go-form DSN end (the '@' before the address), or -1 when it has none. The password
     * may hold '@', '(', '/' or '?': the last '@' before {@code tcp(} or {@code unix(} is the one.
     */
    private static int credentialsEnd(String dsn) {
        int at = Math.max(dsn.lastIndexOf("@tcp("), dsn.lastIndexOf("@unix("));
        return at >= 0 || startsWithAddress(dsn) ? at : dsn.lastIndexOf('@');
    }

    private static boolean startsWithAddress(String text) {
        return text.startsWith("tcp(") || text.startsWith("unix(") || text.startsWith("/");
    }

    private static Dsn parseGo(String dsn) {
        int at = credentialsEnd(dsn);
        String credentials = at < 0 ? "" : dsn.substring(0, at);
        String rest = dsn.substring(at + 1);
        String host = "127.0.0.1";
        int port = DEFAULT_PORT;
        String socket = null;
        if (!rest.startsWith("/")) {
            int open = rest.indexOf('(');
            int close = rest.indexOf(')');
            if (!startsWithAddress(rest) || close < open) {
                // Whatever stands here is not echoed: without a clear '@tcp(' it may be part of a password.
                throw malformed(dsn, "expected tcp(host:port) or unix(/path/to.sock) after 'user:password@'");
            }
            String address = rest.substring(open + 1, close);
            if (rest.startsWith("unix(")) {
                socket = address;
                host = "localhost";
            } else {
                String[] hostPort = splitHostPort(dsn, address);
                host = hostPort[0];
                port = hostPort[1] == null ? DEFAULT_PORT : parsePort(dsn, hostPort[1]);
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
        return build(dsn, user, password, host, port, socket, database, params);
    }

    private static Dsn parseJdbc(String dsn) {
        Matcher m = JDBC.matcher(dsn);
        if (!m.matches()) {
            throw malformed(dsn, "not a jdbc:mariadb:// or jdbc:mysql:// URL");
        }
        if (m.group(2).contains("@")) {
            throw malformed(dsn, "put user and password in ?user=...&password=..., not before the host");
        }
        String[] hostPort;
        int port;
        try {
            hostPort = splitHostPort(dsn, m.group(2));
            port = hostPort[1] == null ? DEFAULT_PORT : parsePort(dsn, hostPort[1]);
        } catch (ShardSchemaException e) {
            if (!dsn.contains("@")) {
                throw e;
            }
            // A password before the host that holds '/' or '?' ends the address early: its text must not show.
            throw malformed(dsn, "the address is not host[:port] (not shown: the DSN holds an '@', perhaps after a"
                    + " password); put user and password in ?user=...&password=...");
        }
        Map<String, String> params = parseQuery(dsn, m.group(4));
        String user = params.remove("user");
        String password = params.remove("password");
        return build(dsn, user, password, hostPort[0], port, null, m.group(3), params);
    }

    /** The DSN from its parsed parts: a socket given as the driver's option counts as the address, and is checked. */
    private static Dsn build(String dsn, String user, String password, String host, int port, String socket,
                             String database, Map<String, String> params) {
        if (user != null && user.contains(":")) {
            // Stored as user@..., a ':' would read back as the start of a password.
            throw malformed(dsn, "a user name with ':' cannot be stored");
        }
        for (String option : ADDRESS_OPTIONS) {
            if (params.containsKey(option)) {
                throw malformed(dsn, "option " + option + " would choose the server by other means than the address;"
                        + " give the server as tcp(host:port) or unix(/path/to.sock)");
            }
        }
        String optionSocket = params.remove("localSocket");
        if (optionSocket != null && socket != null) {
            throw malformed(dsn, "two sockets: unix(...) and the option localSocket");
        }
        String chosenSocket = socket != null ? socket : optionSocket;
        String problem = addressProblem(host, chosenSocket);
        if (problem != null) {
            throw malformed(dsn, problem);
        }
        return new Dsn(user, password, host, port, chosenSocket, database, params);
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
            String v6 = hostPort.substring(1, end);
            if (!isIpv6(v6)) {
                throw malformed(dsn, "[" + Printable.escape(v6) + "] is not an IPv6 address");
            }
            return new String[]{v6, rest.isEmpty() ? null : rest.substring(1)};
        }
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0) {
            return new String[]{hostPort, null};
        }
        if (colon == 0) {
            throw malformed(dsn, "host is missing");
        }
        String host = hostPort.substring(0, colon);
        if (host.contains(":")) {
            throw malformed(dsn, "write an IPv6 address in brackets: [" + Printable.escape(host) + "]:port");
        }
        return new String[]{host, hostPort.substring(colon + 1)};
    }

    /**
     * Why {@code host} (and {@code socket}, when set) cannot be a DSN's address, or null when they can: one host
     * name, IPv4 address or (unbracketed) IPv6 address; an absolute socket path that fits a socket address.
     */
    private static String addressProblem(String host, String socket) {
        if (socket != null) {
            if (!socket.startsWith("/")) {
                return "socket path " + Printable.escape(socket) + " is not absolute";
            }
            if (socket.getBytes(StandardCharsets.UTF_8).length > SOCKET_PATH_MAX_BYTES) {
                return "socket path " + Printable.escape(socket) + " is longer than the " + SOCKET_PATH_MAX_BYTES
                        + " bytes a unix socket address holds";
            }
            if (socket.codePoints().anyMatch(cp -> Printable.needsEscape(cp) || ",()".indexOf(cp) >= 0)) {
                return "socket path " + Printable.escape(socket) + " holds a control character, ',', '(' or ')'";
            }
        }
        if (host == null || host.isEmpty()) {
            return "host is missing";
        }
        if (host.contains(",")) {
            return "host '" + Printable.escape(host) + "' lists several hosts; a DSN names one server";
        }
        if (host.contains(":")) {
            return isIpv6(host) ? null : "host '" + Printable.escape(host) + "' is not an IPv6 address";
        }
        if (NUMERIC_HOST.matcher(host).matches()) {
            return IPV4.matcher(host).matches() ? null : "host '" + host + "' is not an IPv4 address";
        }
        return HOST_NAME.matcher(host).matches() ? null : "host '" + Printable.escape(host)
                + "' is not a host name (letters, digits, '-' and '_' in labels of at most 63, joined by '.'),"
                + " an IPv4 address or a bracketed IPv6 address";
    }

    private static boolean isIpv6(String text) {
        if (!text.contains(":") || !IPV6_CHARS.matcher(text).matches()) {
            return false;
        }
        try {
            // Only hex digits, ':' and '.': Java parses it as a literal and looks nothing up.
            return InetAddress.getByName(text) instanceof Inet6Address;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static int parsePort(String dsn, String text) {
        if (!text.matches("\\d{1,5}")) {
            throw malformed(dsn, "port '" + Printable.escape(text) + "' is not a number");
        }
        int port = Integer.parseInt(text);
        if (port < 1 || port > 65535) {
            throw malformed(dsn, "port " + port + " is outside 1..65535");
        }
        return port;
    }

    private static Map<String, String> parseQuery(String dsn, String query) {
        Map<String, String> params = new LinkedHashMap<>();
        if (query == null || query.isEmpty()) {
            return params;
        }
        // With a secret among the options, no option is echoed: a password holding '&' splits into several.
        boolean secret = SECRET_OPTION.matcher("?" + query).find() || query.contains("%");
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String which = secret ? "an option" : "option '" + Printable.escape(pair) + "'";
            if (eq <= 0) {
                throw malformed(dsn, which + " is not key=value (in a value, write '&' as %26 and '%' as %25)");
            }
            String key;
            String value;
            try {
                key = canonical(decode(pair.substring(0, eq)));
                value = decode(pair.substring(eq + 1));
            } catch (IllegalArgumentException e) {
                throw malformed(dsn, which + " has a bad %-escape (write '%' as %25)");
            }
            if (params.keySet().stream().anyMatch(k -> k.equalsIgnoreCase(key))) {
                // The driver would take one of the two, as it reads names ignoring case: which is not ours to guess.
                throw malformed(dsn, (secret ? "an option" : "option " + Printable.escape(key)) + " is given twice");
            }
            params.put(key, value);
        }
        return params;
    }

    /** {@code name} in the spelling of {@link #SPECIAL_OPTIONS} when it is one of them, whatever its case. */
    private static String canonical(String name) {
        return SPECIAL_OPTIONS.stream().filter(name::equalsIgnoreCase).findFirst().orElse(name);
    }

    /** Percent-decoding only: a '+' stays a '+' (it is common in passwords and paths). */
    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /**
     * Percent-encoding of what would change how an option list parses again ('&', '=', '%', '@', '(', ')', '?',
     * '#', spaces, control and non-ASCII characters): a stored option value can never become another option or an
     * address.
     */
    private static String encode(String s) {
        StringBuilder sb = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c > 0x20 && c < 0x7f && "&=%@()?#".indexOf(c) < 0) {
                sb.append((char) c);
            } else {
                sb.append('%').append(String.format("%02X", c));
            }
        }
        return sb.toString();
    }

    private static ShardSchemaException malformed(String dsn, String why) {
        return ShardSchemaException.usage("malformed DSN '" + mask(dsn) + "': " + why + "; " + FORMS);
    }

    /**
     * The DSN text with anything that may be a password replaced by ***; safe for messages, also for text that does
     * not parse. Where it cannot be told where a password ends, all that follows is hidden.
     */
    public static String mask(String dsn) {
        return Printable.escape(isJdbc(dsn) ? maskJdbc(dsn) : maskGo(dsn));
    }

    private static String maskJdbc(String dsn) {
        // user:password@ before the host is refused by parse, but must not show in its message either; where the
        // password ends cannot be told (it may hold '/', '?' or '@'), so all up to the last '@' is hidden.
        int at = dsn.lastIndexOf('@');
        Matcher scheme = JDBC_SCHEME.matcher(dsn);
        int from = scheme.lookingAt() ? scheme.end() : "jdbc:".length();
        return maskSecretOptions(at < from ? dsn : dsn.substring(0, from) + "***" + dsn.substring(at));
    }

    private static String maskGo(String dsn) {
        int at = credentialsEnd(dsn);
        int colon = dsn.indexOf(':');
        if (at < 0) {
            if (startsWithAddress(dsn) || colon < 0) {
                return maskSecretOptions(dsn);
            }
            // user:password with no '@' after it: nothing after the ':' may be shown.
            return dsn.substring(0, colon) + ":***";
        }
        String user = colon >= 0 && colon < at ? dsn.substring(0, colon) + ":***" : dsn.substring(0, at);
        String address = dsn.substring(at + 1);
        // What follows an '@' that does not start an address may be the rest of a password holding '@'.
        return user + "@" + (startsWithAddress(address) ? maskSecretOptions(address) : "***");
    }

    /**
     * The text up to its first option whose name holds "password" (or a %-escape, which may spell it), whose value
     * and all after it become ***.
     */
    private static String maskSecretOptions(String text) {
        Matcher m = OPTION_NAME.matcher(text);
        while (m.find()) {
            String name = m.group(1);
            if (name.contains("%") || name.toLowerCase(Locale.ROOT).contains("password")) {
                return text.substring(0, m.end()) + "***";
            }
        }
        return text;
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
                newHost == null && newPort == null ? socket : null, database, params);
    }

    /**
     * The JDBC URL: the server only. User and password go in {@link #jdbcProperties()}; the database is selected
     * after login ({@link DataSources}), so no name needs URL encoding and none can add to the URL.
     */
    public String jdbcUrl() {
        String hostPart = host.contains(":") ? "[" + host + "]" : host;
        return "jdbc:mariadb://" + hostPart + ":" + port + "/";
    }

    /** Driver properties: credentials, a client certificate's key store, and {@link #jdbcOptions()}. */
    public Properties jdbcProperties() {
        Properties p = jdbcOptions();
        if (user != null) {
            p.setProperty("user", user);
        }
        if (password != null) {
            p.setProperty("password", password);
        }
        String clientCert = params.get("ssl-cert");
        if (clientCert != null) {
            ClientCertificate.KeyStoreFile store = ClientCertificate.keyStore(clientCert, params.get("ssl-key"));
            p.setProperty("keyStore", store.path().toString());
            p.setProperty("keyStorePassword", store.password());
            p.setProperty("keyStoreType", "PKCS12");
        }
        return p;
    }

    /**
     * The options as the driver takes them: the socket, the TLS options and the timeout translated from the Go
     * driver's names, no cleartext authentication unless the DSN's own {@code restrictedAuth} allows it, and the
     * rest as given.
     */
    private Properties jdbcOptions() {
        Properties p = new Properties();
        if (socket != null) {
            p.setProperty("localSocket", socket);
        }
        if (params.containsKey("ssl-cert") != params.containsKey("ssl-key")) {
            throw ShardSchemaException.usage("DSN " + this + ": ssl-cert and ssl-key go together");
        }
        p.setProperty("restrictedAuth", SAFE_AUTH_METHODS);
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
            default -> throw ShardSchemaException.usage("DSN " + this + ": tls=" + Printable.escape(value)
                    + " is not one of true, verify-ca, skip-verify, preferred, false");
        };
    }

    private long goDurationMillis(String value) {
        Matcher m = DURATION.matcher(value);
        long millis = -1;
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "s" : m.group(2);
            millis = switch (unit) {
                case "ms" -> n;
                case "m" -> n * 60_000;
                default -> n * 1000;
            };
        }
        if (millis < 0 || millis > MAX_TIMEOUT_MILLIS) {
            throw ShardSchemaException.usage("DSN " + this + ": timeout=" + Printable.escape(value)
                    + " is not a duration like 5s, 500ms or 2m of at most 24 hours");
        }
        return millis;
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
            params.forEach((k, v) -> q.append(q.length() == 0 ? "?" : "&").append(encode(k)).append('=')
                    .append(k.toLowerCase(Locale.ROOT).contains("password") && !includePassword ? "***" : encode(v)));
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
