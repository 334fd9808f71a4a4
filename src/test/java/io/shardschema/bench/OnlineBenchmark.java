package io.shardschema.bench;

import io.shardschema.config.DataSources;
import io.shardschema.embedded.MariaDbServer;
import io.shardschema.online.Migration;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static io.shardschema.bench.BenchSupport.cli;
import static io.shardschema.bench.BenchSupport.deleteTree;
import static io.shardschema.bench.BenchSupport.machine;
import static io.shardschema.bench.BenchSupport.say;
import static io.shardschema.bench.BenchSupport.settle;

/**
 * How much does ShardSchema's online lifecycle cost over running pt-online-schema-change by hand? One table of
 * N rows (default 1,000,000) is altered (a) by {@code shardschema run} with a pt-osc version (auto-approve,
 * auto-cutover: preparing with a dry run, copy, ShardSchema's own swap), (b) by pt-online-schema-change run by hand
 * with the same options (its own swap, dropping the old table), and (c) by ALTER TABLE ... ALGORITHM=COPY. Each
 * phase works on its own copy of the table; the server is settled between phases.
 */
public final class OnlineBenchmark {
    private static final String ALTER = "ADD COLUMN z INT NOT NULL DEFAULT 0";
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss z");

    private final MariaDbServer server;
    private final Path workDir;

    private OnlineBenchmark(MariaDbServer server, Path workDir) {
        this.server = server;
        this.workDir = workDir;
    }

    private record Row(int round, long aNanos, long bNanos, long cNanos, long dNanos) {
        double ab() {
            return (double) aNanos / bNanos;
        }

        double ac() {
            return (double) aNanos / cNanos;
        }

        /** The engine's throughput against pt-osc's (by hand): b's time over d's. */
        double dThroughputVsB() {
            return (double) bNanos / dNanos;
        }

        /** The engine's throughput against ALTER COPY's. */
        double dThroughputVsC() {
            return (double) cNanos / dNanos;
        }
    }

    public static void main(String[] args) throws Exception {
        int rows = 1_000_000;
        int rounds = 1;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rows" -> rows = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                default -> {
                    System.out.println("usage: OnlineBenchmark [--rows N] [--rounds R]   (default 1000000 rows, 1 round)");
                    return;
                }
            }
        }
        Path dir = Path.of("target", "bench-online-server").toAbsolutePath();
        deleteTree(dir);
        say("starting MariaDB in " + dir);
        MariaDbServer server = MariaDbServer.start(dir.resolve("server"), 0,
                List.of("--innodb-buffer-pool-size=2G", "--innodb-log-file-size=1G", "--log-bin=bench-bin",
                        "--server-id=1", "--binlog-format=ROW"));
        try {
            OnlineBenchmark bench = new OnlineBenchmark(server, dir);
            String header = "ShardSchema online benchmark, " + ZonedDateTime.now().format(STAMP) + "\n"
                    + machine(server) + "\n" + "table big(id INT AUTO_INCREMENT PRIMARY KEY, k INT, v VARCHAR(40),"
                    + " pad CHAR(60)) with " + rows + " rows; alter: " + ALTER + "\n"
                    + "a = shardschema run (pt-osc version, auto-approve, auto-cutover); b = pt-online-schema-change"
                    + " by hand, same options; c = ALTER TABLE ... ALGORITHM=COPY; d = the built-in binlog engine"
                    + " (io.shardschema.online.Migration: copy, catch-up, checksum, cut-over); binlog on, ROW";
            System.out.println(header);
            List<Row> results = new ArrayList<>();
            for (int r = 1; r <= rounds; r++) {
                results.add(bench.round(r, rows));
            }
            System.out.println();
            System.out.println(header);
            System.out.printf(Locale.ROOT, "%-8s | %8s %8s %8s %8s | %6s %6s | %6s %6s%n", "round", "a (s)", "b (s)",
                    "c (s)", "d (s)", "a/b", "a/c", "b/d", "c/d");
            for (Row row : results) {
                System.out.printf(Locale.ROOT, "%-8d | %8.2f %8.2f %8.2f %8.2f | %6.3f %6.3f | %6.3f %6.3f%n", row.round,
                        row.aNanos / 1e9, row.bNanos / 1e9, row.cNanos / 1e9, row.dNanos / 1e9, row.ab(), row.ac(),
                        row.dThroughputVsB(), row.dThroughputVsC());
            }
            double[] bd = results.stream().mapToDouble(Row::dThroughputVsB).sorted().toArray();
            double[] cd = results.stream().mapToDouble(Row::dThroughputVsC).sorted().toArray();
            System.out.printf(Locale.ROOT, "engine throughput: median %.3f x pt-osc (target >= 1.6 %s), %.3f x ALTER"
                    + " COPY (target >= 0.85 %s)%n", median(bd), median(bd) >= 1.6 ? "met" : "MISSED", median(cd),
                    median(cd) >= 0.85 ? "met" : "MISSED");
            double[] ab = results.stream().mapToDouble(Row::ab).sorted().toArray();
            double median = median(ab);
            System.out.printf(Locale.ROOT, "median a/b %.3f: target a/b <= 1.05 %s%n", median, median <= 1.05 ? "met" : "MISSED");
        } finally {
            server.stop();
        }
    }

    private static double median(double[] sorted) {
        return sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    }

    private Row round(int round, int rows) throws Exception {
        String a = "oa_" + round;
        String b = "ob_" + round;
        String c = "oc_" + round;
        String d = "od_" + round;
        say("round " + round + ": creating 4 tables of " + rows + " rows");
        for (String schema : List.of(a, b, c, d)) {
            createTable(schema, rows);
        }
        Path config = workDir.resolve("round" + round + ".cnf");
        Files.writeString(config, "dbDSN=" + server.rootDsn("ocat_" + round).toGoForm(true) + "\n"
                + "logDir=" + workDir.resolve("logs") + "\n" + "pendingDropsDb=opending_" + round + "\n"
                + "throttlingFile=" + workDir.resolve("throttle") + "\n" + "stopFile=" + workDir.resolve("stop") + "\n");
        cli(config, "init");
        cli(config, "shard", "add", "--schema", a, "--dsn", server.rootDsn(null).toString());
        cli(config, "version", "add", "--type", "pt-osc", "--auto-approve", "--auto-cutover", "--table", "big",
                "--command", ALTER);

        settle(server);
        say("(a) shardschema run");
        long start = System.nanoTime();
        cli(config, "run");
        long aNanos = System.nanoTime() - start;

        settle(server);
        say("(b) pt-online-schema-change by hand");
        start = System.nanoTime();
        Process p = new ProcessBuilder("pt-online-schema-change", "--alter", ALTER, "--recursion-method", "none",
                "--execute", "D=" + b + ",t=big,h=127.0.0.1,P=" + server.port() + ",u=root")
                .redirectErrorStream(true).redirectOutput(workDir.resolve("ptosc-" + round + ".log").toFile()).start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("pt-online-schema-change failed: see " + workDir.resolve("ptosc-" + round + ".log"));
        }
        long bNanos = System.nanoTime() - start;

        settle(server);
        say("(c) ALTER TABLE ... ALGORITHM=COPY");
        start = System.nanoTime();
        try (Connection conn = DataSources.connect(server.rootDsn(c)); Statement s = conn.createStatement()) {
            s.execute("ALTER TABLE big " + ALTER + ", ALGORITHM=COPY");
        }
        long cNanos = System.nanoTime() - start;

        settle(server);
        say("(d) the built-in binlog engine");
        start = System.nanoTime();
        try (Migration m = Migration.prepare(() -> DataSources.connect(server.rootDsn(d)), server.rootDsn(null), d,
                "big", ALTER, Migration.Control.NONE, Clock.systemUTC())) {
            Migration.Result r = m.run("big__old");
            say("(d) copy " + r.copyMillis() + " ms, checksum " + r.checksumMillis() + " ms, cut-over lock "
                    + r.lockMillis() + " ms");
        }
        long dNanos = System.nanoTime() - start;

        for (String schema : List.of(a, b, c, d)) {
            check(schema, rows);
        }
        Row row = new Row(round, aNanos, bNanos, cNanos, dNanos);
        say(String.format(Locale.ROOT, "round %d: a %.2f s, b %.2f s, c %.2f s, d %.2f s, a/b %.3f, a/c %.3f,"
                + " b/d %.3f, c/d %.3f", round, aNanos / 1e9, bNanos / 1e9, cNanos / 1e9, dNanos / 1e9, row.ab(),
                row.ac(), row.dThroughputVsB(), row.dThroughputVsC()));
        return row;
    }

    private void createTable(String schema, int rows) throws SQLException {
        try (Connection conn = DataSources.connect(server.rootDsn(null)); Statement s = conn.createStatement()) {
            s.execute("CREATE DATABASE " + schema);
            // seq_1_to_N (the Sequence engine) needs a default database.
            s.execute("USE " + schema);
            s.execute("CREATE TABLE " + schema + ".big (id INT AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL,"
                    + " v VARCHAR(40) NOT NULL, pad CHAR(60) NOT NULL)");
            s.execute("INSERT INTO " + schema + ".big (k, v, pad) SELECT seq % 1000, CONCAT('row', seq), 'x'"
                    + " FROM seq_1_to_" + rows);
            s.execute("ANALYZE TABLE " + schema + ".big");
        }
    }

    private void check(String schema, int rows) throws SQLException {
        try (Connection conn = DataSources.connect(server.rootDsn(schema)); Statement s = conn.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*), SUM(z) FROM big")) {
            rs.next();
            if (rs.getInt(1) != rows || rs.getLong(2) != 0) {
                throw new IllegalStateException(schema + ".big has " + rs.getInt(1) + " rows after the alter");
            }
        }
    }
}
