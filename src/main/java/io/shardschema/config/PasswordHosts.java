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

    private record Entry(Pattern host, Integer port, String socket) {
    }

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
            return new Entry(null, null, checked.socket());
        }
        boolean hasPort = text.startsWith("[") ? text.contains("]:") : !text.contains("[") && text.contains(":")
                && text.indexOf(':') == text.lastIndexOf(':');
        String host = hasPort ? text.substring(0, text.lastIndexOf(':')) : text;
        host = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
        StringBuilder regex = new StringBuilder();
        for (String part : host.toLowerCase(Locale.ROOT).split("\\*", -1)) {
            regex.append(regex.length() == 0 ? "" : "[^.]*").append(Pattern.quote(part));
        }
        return new Entry(Pattern.compile(regex.toString()), hasPort ? checked.port() : null, null);
    }

    /** Whether the server {@code dsn} points at may receive the password. */
    public boolean allows(Dsn dsn) {
        return entries.stream().anyMatch(e -> dsn.socket() != null ? dsn.socket().equals(e.socket())
                : e.host() != null && e.host().matcher(dsn.host().toLowerCase(Locale.ROOT)).matches()
                && (e.port() == null || e.port() == dsn.port()));
    }
}
