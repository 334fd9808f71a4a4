package io.shardschema.config;

import io.shardschema.Printable;
import io.shardschema.ShardSchemaException;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The servers that may receive the {@code defaultsFile} password ({@code defaultsFileHosts}): the fleet's DDL
 * password must not go to whatever host a DSN in the catalog or a request names, since a fake server there would
 * collect it. Entries are separated by commas or spaces: {@code host}, {@code host:port}, {@code [IPv6]:port},
 * {@code unix:/path/to.sock}; in a host, {@code *} stands for any characters within one label
 * ({@code *.db.example.com}, {@code 10.0.3.*}), never across a '.'.
 */
public final class PasswordHosts {
    public static final String KEY = "defaultsFileHosts";

    /** A host pattern ({@code ipv4}: it matches IPv4 addresses only), a port (null: any), or a socket path. */
    private record Entry(Pattern host, boolean ipv4, Integer port, String socket) {
    }

    private static final Pattern NUMERIC = Pattern.compile("[0-9*]+(?:\\.[0-9*]+){3}");
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(?:\\.\\d{1,3}){3}");

    private final List<Entry> entries;

    private PasswordHosts(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    /** The list from the config value (null: none); a bad entry is a usage error naming the key. */
    public static PasswordHosts parse(String value) {
        List<Entry> entries = new ArrayList<>();
        if (value != null) {
            for (String entry : value.strip().split("[,\\s]+")) {
                if (!entry.isEmpty()) {
                    entries.add(entry(entry));
                }
            }
        }
        return new PasswordHosts(entries);
    }

    private static Entry entry(String text) {
        boolean socket = text.startsWith("unix:");
        Dsn checked;
        try {
            // A wildcard stands for one label's characters: the entry is checked as a DSN's address would be.
            checked = Dsn.parse(socket ? "unix(" + text.substring("unix:".length()) + ")/"
                    : "tcp(" + text.replace("*", "x") + ")/");
        } catch (ShardSchemaException e) {
            throw ShardSchemaException.usage(KEY + ": '" + Printable.escape(text) + "' is not host, host:port,"
                    + " [IPv6]:port or unix:/path/to.sock (a * stands for the characters of one label)");
        }
        if (socket) {
            return new Entry(null, false, null, checked.socket());
        }
        boolean hasPort = text.startsWith("[") ? text.contains("]:") : !text.contains("[") && text.contains(":")
                && text.indexOf(':') == text.lastIndexOf(':');
        String host = hasPort ? text.substring(0, text.lastIndexOf(':')) : text;
        boolean ipv6 = host.startsWith("[");
        host = ipv6 ? host.substring(1, host.length() - 1) : host;
        if (ipv6 && host.contains("*")) {
            throw ShardSchemaException.usage(KEY + ": '" + Printable.escape(text) + "': an IPv6 address is given whole,"
                    + " without *");
        }
        // A pattern of numbers stands for IPv4 addresses only (10.0.3.* must not let the host name 10.0.3.evil
        // in); otherwise * stands for the characters of a host name's label, never '.' or an IPv6 address's ':'.
        boolean ipv4 = NUMERIC.matcher(host).matches();
        String wildcard = ipv4 ? "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)" : "[a-z0-9_-]*";
        StringBuilder regex = new StringBuilder();
        String[] parts = host.toLowerCase(Locale.ROOT).split("\\*", -1);
        for (int i = 0; i < parts.length; i++) {
            regex.append(i == 0 ? "" : wildcard).append(Pattern.quote(parts[i]));
        }
        return new Entry(Pattern.compile(regex.toString()), ipv4, hasPort ? checked.port() : null, null);
    }

    /** Whether the server {@code dsn} points at may receive the password. */
    public boolean allows(Dsn dsn) {
        String host = dsn.host().toLowerCase(Locale.ROOT);
        return entries.stream().anyMatch(e -> dsn.socket() != null ? dsn.socket().equals(e.socket())
                : e.host() != null && (!e.ipv4() || IPV4.matcher(host).matches()) && e.host().matcher(host).matches()
                && (e.port() == null || e.port() == dsn.port()));
    }
}
