package io.shardschema.bench;

import io.shardschema.cli.Main;
import io.shardschema.config.DataSources;
import io.shardschema.embedded.MariaDbServer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/** What the benchmarks share: the machine line, settling the server between phases, the command line, output. */
final class BenchSupport {
    private BenchSupport() {
    }

    /** "machine: 2 CPUs, 23.5 GiB RAM, Linux ..., Java 17, MariaDB 11.4.5 (one server on port N)" */
    static String machine(MariaDbServer server) throws SQLException {
        String mariadb;
        try (Connection c = DataSources.connect(server.rootDsn(null)); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT VERSION()")) {
            rs.next();
            mariadb = rs.getString(1);
        }
        String mem = "?";
        try (Stream<String> lines = Files.lines(Path.of("/proc/meminfo"))) {
            mem = lines.filter(l -> l.startsWith("MemTotal:")).findFirst()
                    .map(l -> String.format(Locale.ROOT, "%.1f GiB", Long.parseLong(l.replaceAll("\\D", "")) / 1048576.0))
                    .orElse("?");
        } catch (IOException | NumberFormatException e) {
            // not Linux: leave it out
        }
        return "machine: " + Runtime.getRuntime().availableProcessors() + " CPUs, " + mem + " RAM, "
                + System.getProperty("os.name") + ' ' + System.getProperty("os.version") + ", Java "
                + System.getProperty("java.version") + ", MariaDB " + mariadb + " (one server on port " + server.port() + ")";
    }

    /**
     * Lets the server finish the previous phase's background work before the next timed one: writes the dirty
     * pages out (innodb_max_dirty_pages_pct 0 and a high io_capacity until fewer than 100 are left, at most 120 s),
     * then pauses a second. Without it, the flushing of one phase's pages would slow the next phase down.
     */
    static void settle(MariaDbServer server) throws Exception {
        long start = System.nanoTime();
        long dirty;
        try (Connection c = DataSources.connect(server.rootDsn(null)); Statement s = c.createStatement()) {
            String pct = global(s, "innodb_max_dirty_pages_pct");
            String io = global(s, "innodb_io_capacity");
            String ioMax = global(s, "innodb_io_capacity_max");
            s.execute("SET GLOBAL innodb_io_capacity_max = 100000");
            s.execute("SET GLOBAL innodb_io_capacity = 50000");
            s.execute("SET GLOBAL innodb_max_dirty_pages_pct = 0");
            try {
                long deadline = System.nanoTime() + 120_000_000_000L;
                do {
                    Thread.sleep(250);
                    try (ResultSet rs = s.executeQuery("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'")) {
                        rs.next();
                        dirty = rs.getLong(2);
                    }
                } while (dirty >= 100 && System.nanoTime() < deadline);
            } finally {
                s.execute("SET GLOBAL innodb_max_dirty_pages_pct = " + pct);
                s.execute("SET GLOBAL innodb_io_capacity = " + io);
                s.execute("SET GLOBAL innodb_io_capacity_max = " + ioMax);
            }
        }
        Thread.sleep(1000);
        say(String.format(Locale.ROOT, "  settled in %.1f s (%d dirty pages left)", (System.nanoTime() - start) / 1e9, dirty));
    }

    private static String global(Statement s, String variable) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT @@GLOBAL." + variable)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** Runs the real command line in-process; returns what it printed on stdout, or fails with everything it printed. */
    static String cli(Path config, String... args) {
        List<String> all = new ArrayList<>(List.of("--config", config.toString()));
        all.addAll(List.of(args));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = Main.execute(all.toArray(String[]::new), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of());
        if (exit != 0) {
            throw new IllegalStateException("shardschema " + String.join(" ", args) + " exited " + exit + ":\n"
                    + out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8));
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    static void say(String message) {
        System.err.println("[bench " + java.time.LocalTime.now().withNano(0) + "] " + message);
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
