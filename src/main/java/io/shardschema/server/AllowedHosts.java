package io.shardschema.server;

import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.UnknownHostException;
import java.util.Collection;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The names a request's Host header may give, against DNS rebinding: a web page whose own name was made to resolve
 * to this server's address sends that name, and is refused. Allowed, whatever the port: an address of this machine,
 * loopback included (a page names an address only by being loaded from it, and an address cannot be rebound),
 * {@code localhost}, this machine's own names, and the names of the config's {@code apiHostNames} (say the public
 * name a proxy forwards).
 */
final class AllowedHosts {
    private static final String OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
    /** Address literals in their plain forms only, so that no name is ever looked up in DNS here. */
    private static final Pattern ADDRESS = Pattern.compile("(" + OCTET + "\\.){3}" + OCTET + "|\\[[0-9a-f:.]+]");
    private final Set<String> names = new HashSet<>();

    AllowedHosts(Collection<String> configured) {
        names.add("localhost");
        names.addAll(configured);
        try {
            InetAddress machine = InetAddress.getLocalHost();
            names.add(machine.getHostName().toLowerCase(Locale.ROOT));
            names.add(machine.getCanonicalHostName().toLowerCase(Locale.ROOT));
        } catch (UnknownHostException e) {
            // A machine whose own name does not resolve: its addresses, localhost and apiHostNames remain.
        }
    }

    boolean allows(String host) {
        if (host == null) {
            return false;
        }
        String name = host.toLowerCase(Locale.ROOT);
        name = name.startsWith("[") ? name.substring(0, name.indexOf(']') + 1) : name.replaceFirst(":\\d*$", "");
        // A fully qualified name may end with its root's dot.
        name = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        return ADDRESS.matcher(name).matches() ? isOwnAddress(name) : names.contains(name);
    }

    private static boolean isOwnAddress(String literal) {
        try {
            InetAddress address = InetAddress.getByName(literal);
            return address.isLoopbackAddress() || NetworkInterface.getByInetAddress(address) != null;
        } catch (IOException e) {
            return false;
        }
    }
}
