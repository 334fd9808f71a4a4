package io.shardschema.bench;

import io.shardschema.config.DataSources;
import io.shardschema.embedded.MariaDbServer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static io.shardschema.bench.BenchSupport.cli;
import static io.shardschema.bench.BenchSupport.deleteTree;
import static io.shardschema.bench.BenchSupport.machine;
import static io.shardschema.bench.BenchSupport.say;

/**
 * How long does `schema validate` take over a fleet, against a script that reads the same table definitions?
 * (a) `shardschema schema validate --parallel 8` (reads, normalises, fingerprints, groups and diffs every shard);
 * (b) `SHOW CREATE TABLE` of every table of every schema over 8 plain JDBC connections; (c) the same over one.
 * The shards are SHARDS schemas (default 1,000) of three tables each on one MariaDB started for the purpose.
 */
public final class ValidateBenchmark {
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm");
    private static final int THREADS = 8;

    private ValidateBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int shards = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        Path dir = Path.of("target", "bench-validate").toAbsolutePath();
        deleteTree(dir);
        Files.createDirectories(dir);
        say("starting MariaDB in " + dir);
        MariaDbServer server = MariaDbServer.start(dir.resolve("server"), 0,
                List.of("--table-open-cache=4000", "--table-definition-cache=4000"));
        try {
            List<String> schemas = new ArrayList<>();
            say("creating " + shards + " schemas of 3 tables");
            try (Connection c = DataSources.connect(server.rootDsn(null)); Statement s = c.createStatement()) {
                for (int i = 1; i <= shards; i++) {
                    String schema = String.format("v_s%05d", i);
                    schemas.add(schema);
                    s.execute("CREATE DATABASE `" + schema + "`");
                    s.execute("CREATE TABLE `" + schema + "`.users (id INT AUTO_INCREMENT PRIMARY KEY,"
                            + " email VARCHAR(200) NOT NULL, created DATETIME NOT NULL, UNIQUE KEY uniq_email (email))");
                    s.execute("CREATE TABLE `" + schema + "`.orders (id BIGINT PRIMARY KEY, user_id INT NOT NULL,"
                            + " total DECIMAL(10,2), KEY idx_user (user_id))");
                    s.execute("CREATE TABLE `" + schema + "`.audit (id BIGINT AUTO_INCREMENT PRIMARY KEY, note TEXT)");
                }
                // One drifted shard, so the report has a diff to make.
                s.execute("ALTER TABLE `" + schemas.get(shards / 2) + "`.orders ADD COLUMN extra INT");
            }
            Path config = dir.resolve("validate.cnf");
            Files.writeString(config, "dbDSN=" + server.rootDsn("vcat").toGoForm(true) + "\nperServerConcurrency="
                    + THREADS + "\nthrottlingFile=" + dir.resolve("throttle") + "\nstopFile=" + dir.resolve("stop") + "\n");
            cli(config, "init");
            cli(config, "shard", "discover", "--dsn", server.rootDsn(null).toString(), "--like", "v\\_s%");
            // Warm-up: the JIT and the server's table caches.
            timed(() -> script(server, schemas, THREADS));
            runValidate(config);

            BenchSupport.settle(server);
            long a = timed(() -> runValidate(config));
            BenchSupport.settle(server);
            long b = timed(() -> script(server, schemas, THREADS));
            BenchSupport.settle(server);
            long c = timed(() -> script(server, schemas, 1));
            String header = "ShardSchema validate benchmark, " + ZonedDateTime.now().format(STAMP) + "\n" + machine(server)
                    + "\n" + shards + " shards of 3 tables (one drifted); a = schema validate --parallel " + THREADS
                    + "; b = SHOW CREATE TABLE of every table over " + THREADS + " connections; c = the same over 1";
            System.out.println();
            System.out.println(header);
            System.out.printf(Locale.ROOT, "%8s | %8s %8s %8s | %6s %6s%n", "shards", "a (s)", "b (s)", "c (s)", "a/b", "a/c");
            System.out.printf(Locale.ROOT, "%8d | %8.2f %8.2f %8.2f | %6.2f %6.2f%n", shards, a / 1e9, b / 1e9, c / 1e9,
                    (double) a / b, (double) a / c);
        } finally {
            server.stop();
        }
    }

    @FunctionalInterface
    private interface Work {
        void run() throws Exception;
    }

    private static long timed(Work work) throws Exception {
        long start = System.nanoTime();
        work.run();
        return System.nanoTime() - start;
    }

    /** validate exits 3 on drift, which the benchmark makes on purpose: run it through Main, expecting 3. */
    private static void runValidate(Path config) {
        var out = new java.io.ByteArrayOutputStream();
        int exit = io.shardschema.cli.Main.execute(new String[]{"--config", config.toString(), "schema", "validate",
                "--parallel", String.valueOf(THREADS), "--json"}, new java.io.PrintStream(out), System.err, java.util.Map.of());
        if (exit != 3 || !out.toString().contains("\"outliers\"")) {
            throw new IllegalStateException("schema validate exited " + exit + " (expected 3: one drifted shard)");
        }
    }

    /** What a script would do: every table's SHOW CREATE TABLE, schemas shared out over {@code threads} connections. */
    private static void script(MariaDbServer server, List<String> schemas, int threads) throws Exception {
        AtomicInteger next = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    int read = 0;
                    try (Connection c = DataSources.connect(server.rootDsn(null)); Statement s = c.createStatement()) {
                        for (int i = next.getAndIncrement(); i < schemas.size(); i = next.getAndIncrement()) {
                            read += readSchema(s, schemas.get(i));
                        }
                    }
                    return read;
                }));
            }
            int tables = 0;
            for (Future<Integer> f : done) {
                tables += f.get();
            }
            if (tables != schemas.size() * 3) {
                throw new IllegalStateException("read " + tables + " tables");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static int readSchema(Statement s, String schema) throws SQLException {
        List<String> tables = new ArrayList<>();
        try (ResultSet rs = s.executeQuery("SHOW FULL TABLES FROM `" + schema + "` WHERE Table_type = 'BASE TABLE'")) {
            while (rs.next()) {
                tables.add(rs.getString(1));
            }
        }
        for (String t : tables) {
            try (ResultSet rs = s.executeQuery("SHOW CREATE TABLE `" + schema + "`.`" + t + "`")) {
                rs.next();
                rs.getString(2);
            }
        }
        return tables.size();
    }
}
