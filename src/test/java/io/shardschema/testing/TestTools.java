package io.shardschema.testing;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Makes sure the outside tools some tests need are installed (scripts/install-tool, from Debian's packages), once
 * per tool and test JVM, so a fresh machine needs nothing installed by hand.
 */
public final class TestTools {
    private static final Set<String> READY = new HashSet<>();

    private TestTools() {
    }

    /** pt-online-schema-change, for the online tests. */
    public static void ensurePtOsc() {
        ensure("pt-online-schema-change", "percona-toolkit");
    }

    /** Debian's MariaDB server (10.11 on Debian 12), for the tests where the flavour matters. */
    public static void ensureDebianMariaDb() {
        ensure("/usr/sbin/mariadbd", "mariadb-server");
    }

    /** Debian's ansible-core, for the test of the Ansible collection in contrib/ansible. */
    public static void ensureAnsible() {
        ensure("ansible-playbook", "ansible-core");
    }

    /** Chromium and its driver, for the browser test. */
    public static void ensureChromium() {
        ensure("chromedriver", "chromium", "chromium-driver");
    }

    /** Debian's Puppet, for the test of the Puppet module in contrib/puppet. */
    public static void ensurePuppet() {
        ensure("puppet", "puppet");
    }

    private static synchronized void ensure(String command, String... packages) {
        if (READY.contains(command)) {
            return;
        }
        Path script = Path.of("scripts", "install-tool").toAbsolutePath();
        List<String> args = new ArrayList<>(List.of(script.toString(), command));
        args.addAll(List.of(packages));
        try {
            Process p = new ProcessBuilder(args).inheritIO().start();
            if (p.waitFor() != 0) {
                throw new IllegalStateException(script + " failed (exit " + p.exitValue() + "): these tests need "
                        + command + " (Debian: " + String.join(" ", packages) + ")");
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + script, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        READY.add(command);
    }
}
