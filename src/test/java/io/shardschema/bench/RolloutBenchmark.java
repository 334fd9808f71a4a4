package io.shardschema.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shardschema.change.ChangeStatement;
import io.shardschema.config.DataSources;
import io.shardschema.config.Dsn;
import io.shardschema.embedded.MariaDbServer;
import io.shardschema.schema.Sql;

import static io.shardschema.bench.BenchSupport.cli;
import static io.shardschema.bench.BenchSupport.deleteTree;
import static io.shardschema.bench.BenchSupport.machine;
import static io.shardschema.bench.BenchSupport.say;
import static io.shardschema.bench.BenchSupport.settle;

import java.io.IOException;
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
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Rollout benchmark (bench/run.sh): N shard schemas on one MariaDB server, three small versions (an added column,
 * an added index, a new table), applied three ways to three identical sets of fresh schemas created up front:
 * <ol>
 *   <li>(a) {@code shardschema run --workers 8}, in-process through the real command line (perServerConcurrency 8,
 *       the catalog on the same server);</li>
 *   <li>(b) the same statements over 8 plain JDBC connections (8 threads, each with its own connection, taking the
 *       next shard from a shared counter and applying the 3 statements to it in order);</li>
 *   <li>(c) the same over 1 connection.</li>
 * </ol>
 * Prints wall-clock times, the ratios a/b and a/c, the runner's catalog time per task (Runner.Summary.catalogMillis
 * / tasks) and (a-b)/tasks, for every size given. Not a test: it prints figures and leaves the judging to the reader.
 */
public final class RolloutBenchmark {
    private static final int WORKERS = 8;
    /** (table, command) of the three versions, as registered with `version add`. */
    private static final List<String[]> VERSIONS = List.of(
            new String[]{"t", "ADD COLUMN c INT NULL"},
            new String[]{"t", "ADD INDEX idx_v (v)"},
            new String[]{"t2", "CREATE TABLE t2 (id INT NOT NULL PRIMARY KEY, note VARCHAR(40))"});
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss z");

    private final MariaDbServer server;
    private final Path workDir;
    private final boolean keep;
    private final boolean digests;

    private RolloutBenchmark(MariaDbServer server, Path workDir, boolean keep, boolean digests) {
        this.server = server;
        this.workDir = workDir;
        this.keep = keep;
        this.digests = digests;
    }

    /** One size's figures. Times in nanoseconds. */
    private record Row(int shards, int tasks, long aNanos, long runnerMillis, long catalogMillis, long bNanos,
                       long cNanos, long aStatements, long bStatements, long setupNanos, Cpu aCpu, Cpu bCpu, Cpu cCpu) {
        double a() {
            return aNanos / 1e9;
        }

        double b() {
            return bNanos / 1e9;
        }

        double c() {
            return cNanos / 1e9;
        }

        double catalogPerTask() {
            return (double) catalogMillis / tasks;
        }

        double overheadPerTask() {
            return (aNanos - bNanos) / 1e6 / tasks;
        }
    }

    /** CPU seconds used during one phase by the server process and by this JVM (runner or plain JDBC threads). */
    private record Cpu(double server, double jvm) {
        Cpu minus(Cpu before) {
            return new Cpu(server - before.server, jvm - before.jvm);
        }
    }

    public static void main(String[] args) throws Exception {
        List<Integer> sizes = new ArrayList<>();
        int warmup = 100;
        boolean keep = false;
        boolean digests = false;
        int rounds = 1;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--keep" -> keep = true;
                case "--digests" -> digests = true;
                case "-h", "--help" -> {
                    System.out.println("usage: RolloutBenchmark [--warmup N] [--rounds R] [--keep] [--digests] [SIZE...]"
                            + "   (default: --warmup 100 --rounds 1, sizes 1000 10000)\n"
                            + "  --rounds R: measure every size R times, each on fresh schemas; the table shows each round"
                            + " and the medians\n"
                            + "  --keep: leave the schemas on the server\n"
                            + "  --digests: server with performance_schema on; prints the statements of (a) and (b) by"
                            + " total server time (slows the server down: not for the figures)");
                    return;
                }
                default -> sizes.add(Integer.parseInt(args[i]));
            }
        }
        if (sizes.isEmpty()) {
            sizes.addAll(List.of(1000, 10000));
        }

        Path dir = Path.of("target", "bench-server").toAbsolutePath();
        deleteTree(dir);
        say("starting MariaDB in " + dir);
        List<String> serverArgs = new ArrayList<>(List.of("--innodb-buffer-pool-size=512M", "--innodb-log-file-size=512M",
                "--table-open-cache=4000", "--table-definition-cache=4000"));
        if (digests) {
            serverArgs.add("--performance-schema=ON");
            serverArgs.add("--performance-schema-digests-size=100000");
        }
        MariaDbServer server = MariaDbServer.start(dir.resolve("server"), 0, serverArgs);
        Thread stopper = new Thread(server::stop, "bench-server-stop");
        Runtime.getRuntime().addShutdownHook(stopper);
        try {
            RolloutBenchmark bench = new RolloutBenchmark(server, dir, keep, digests);
            String header = bench.header();
            System.out.println(header);
            if (warmup > 0) {
                say("warm-up round with " + warmup + " shards (JIT, pools, server caches); not reported");
                bench.measure("bw", warmup, true);
            }
            List<Row> rows = new ArrayList<>();
            for (int i = 0; i < sizes.size(); i++) {
                int n = sizes.get(i);
                for (int r = 1; r <= rounds; r++) {
                    // The very last schemas go with the server's folder (wiped at the next start), unless --keep.
                    boolean last = i == sizes.size() - 1 && r == rounds;
                    if (rounds > 1) {
                        say(n + " shards: round " + r + " of " + rounds);
                    }
                    rows.add(bench.measure("bn" + n + "r" + r + "x" + i, n, !last));
                }
                System.out.println();
                System.out.println(header);
                System.out.println(table(rows));
                System.out.flush();
            }
        } finally {
            server.stop();
            Runtime.getRuntime().removeShutdownHook(stopper);
        }
    }

    // ---- one size -----------------------------------------------------------------------------------------

    private Row measure(String prefix, int n, boolean dropAfter) throws Exception {
        int tasks = n * VERSIONS.size();
        List<String> setA = names(prefix + "_a", n);
        List<String> setB = names(prefix + "_b", n);
        List<String> setC = names(prefix + "_c", n);

        say(n + " shards: creating " + 3 * n + " schemas (" + prefix + "_a_*, _b_*, _c_*), each with t(id, v) and 3 rows");
        long setup = System.nanoTime();
        List<String> all = new ArrayList<>(setA);
        all.addAll(setB);
        all.addAll(setC);
        forEachParallel(all, WORKERS, (s, schema) -> {
            s.execute("CREATE DATABASE " + Sql.quote(schema));
            s.execute("CREATE TABLE " + Sql.quote(schema) + ".t (id INT NOT NULL PRIMARY KEY, v VARCHAR(20))");
            s.execute("INSERT INTO " + Sql.quote(schema) + ".t VALUES (1, 'a'), (2, 'b'), (3, 'c')");
        });

        Path fleet = Files.createDirectories(workDir.resolve("fleets").resolve(prefix));
        Path config = fleet.resolve("shardschema.cnf");
        Dsn catalogDsn = server.rootDsn(prefix + "_catalog");
        Files.writeString(config, String.join("\n",
                "# written by RolloutBenchmark",
                "dbDSN=\"" + catalogDsn.toGoForm(true) + "\"",
                "throttlingFile=" + fleet.resolve("throttle"),
                "stopFile=" + fleet.resolve("stop"),
                "logDir=" + fleet.resolve("logs"),
                "workers=" + WORKERS,
                "perServerConcurrency=" + WORKERS, ""));
        cli(config, "init");
        JsonNode discovered = JSON.readTree(cli(config, "shard", "discover", "--dsn", server.rootDsn(null).toString(),
                "--like", prefix + "\\_a\\_s%", "--json"));
        if (discovered.path("registered").asInt() != n) {
            throw new IllegalStateException("discover registered " + discovered + ", expected " + n);
        }
        for (String[] v : VERSIONS) {
            cli(config, "version", "add", "--table", v[0], "--command", v[1]);
        }
        setup = System.nanoTime() - setup;
        say(String.format(Locale.ROOT, "%d shards: set up in %.1f s", n, setup / 1e9));

        // (a) the runner, through the real command line: `shardschema --config F run --workers 8 --json`.
        settle(server);
        say(n + " shards: (a) shardschema run --workers " + WORKERS);
        resetDigests();
        long q0 = questions();
        Cpu cpu0 = cpu();
        long t0 = System.nanoTime();
        String out = cli(config, "run", "--workers", String.valueOf(WORKERS), "--json");
        long aNanos = System.nanoTime() - t0;
        Cpu aCpu = cpu().minus(cpu0);
        long aStatements = questions() - q0;
        JsonNode summary = JSON.readTree(out).path("summary");
        if (summary.path("applied").asInt() != tasks || JSON.readTree(out).path("failedShards").asInt() != 0) {
            throw new IllegalStateException("run did not apply every task: " + out);
        }
        checkCatalog(catalogDsn, n);
        printDigests(n + " shards, (a)", tasks);
        say(String.format(Locale.ROOT, "%d shards: (a) %.2f s, runner %d ms, catalog %d ms over all threads",
                n, aNanos / 1e9, summary.path("millis").asLong(), summary.path("catalogMillis").asLong()));

        // (b) the same statements over 8 plain connections.
        settle(server);
        say(n + " shards: (b) the same statements over " + WORKERS + " plain JDBC connections");
        resetDigests();
        q0 = questions();
        cpu0 = cpu();
        long bNanos = plain(setB, WORKERS);
        Cpu bCpu = cpu().minus(cpu0);
        long bStatements = questions() - q0;
        printDigests(n + " shards, (b)", tasks);
        say(String.format(Locale.ROOT, "%d shards: (b) %.2f s", n, bNanos / 1e9));

        // (c) over one connection.
        settle(server);
        say(n + " shards: (c) the same statements over 1 plain JDBC connection");
        cpu0 = cpu();
        long cNanos = plain(setC, 1);
        Cpu cCpu = cpu().minus(cpu0);
        say(String.format(Locale.ROOT, "%d shards: (c) %.2f s", n, cNanos / 1e9));

        checkSame(setA, setB, setC);
        if (dropAfter && !keep) {
            say(n + " shards: dropping the schemas and the catalog");
            List<String> drop = new ArrayList<>(all);
            drop.add(prefix + "_catalog");
            forEachParallel(drop, WORKERS, (s, schema) -> s.execute("DROP DATABASE IF EXISTS " + Sql.quote(schema)));
        }
        return new Row(n, tasks, aNanos, summary.path("millis").asLong(), summary.path("catalogMillis").asLong(),
                bNanos, cNanos, aStatements, bStatements, setup, aCpu, bCpu, cCpu);
    }

    private static List<String> names(String prefix, int n) {
        List<String> out = new ArrayList<>(n);
        for (int i = 1; i <= n; i++) {
            out.add(String.format("%s_s%05d", prefix, i));
        }
        return out;
    }

    /** Applies the versions' statements, as the runner would send them, to every schema with {@code threads} connections. */
    private long plain(List<String> schemas, int threads) throws Exception {
        List<String> statements = VERSIONS.stream().map(v -> ChangeStatement.sql(v[0], v[1])).toList();
        long start = System.nanoTime();
        forEachParallel(schemas, threads, (s, schema) -> {
            s.getConnection().setCatalog(schema);
            for (String sql : statements) {
                s.execute(sql);
            }
        });
        return System.nanoTime() - start;
    }

    private interface SchemaWork {
        void run(Statement s, String schema) throws SQLException;
    }

    /** A fixed pool of {@code threads} threads, each with its own connection, taking the next schema from a shared counter. */
    private void forEachParallel(List<String> schemas, int threads, SchemaWork work) throws Exception {
        AtomicInteger next = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                futures.add(pool.submit(() -> {
                    try (Connection c = DataSources.connect(server.rootDsn(null)); Statement s = c.createStatement()) {
                        for (int i = next.getAndIncrement(); i < schemas.size(); i = next.getAndIncrement()) {
                            work.run(s, schemas.get(i));
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    // ---- checks -------------------------------------------------------------------------------------------

    private void checkCatalog(Dsn catalogDsn, int n) throws SQLException {
        try (Connection c = DataSources.connect(catalogDsn); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM shards WHERE version = " + VERSIONS.size()
                     + " AND state = 'ready' AND task IS NULL")) {
            rs.next();
            if (rs.getInt(1) != n) {
                throw new IllegalStateException("only " + rs.getInt(1) + " of " + n + " shards are at version " + VERSIONS.size());
            }
        }
    }

    /** The first, middle and last schema of each set ended with the same tables. */
    private void checkSame(List<String> a, List<String> b, List<String> c) throws SQLException {
        try (Connection conn = DataSources.connect(server.rootDsn(null)); Statement s = conn.createStatement()) {
            for (int i : new int[]{0, a.size() / 2, a.size() - 1}) {
                String expected = null;
                for (String schema : List.of(a.get(i), b.get(i), c.get(i))) {
                    StringBuilder def = new StringBuilder();
                    for (String table : List.of("t", "t2")) {
                        try (ResultSet rs = s.executeQuery("SHOW CREATE TABLE " + Sql.quote(schema) + "." + Sql.quote(table))) {
                            rs.next();
                            def.append(rs.getString(2)).append('\n');
                        }
                    }
                    if (expected == null) {
                        expected = def.toString();
                        if (!expected.contains("`c` int") || !expected.contains("KEY `idx_v`")) {
                            throw new IllegalStateException(schema + " lacks the changes:\n" + expected);
                        }
                    } else if (!expected.equals(def.toString())) {
                        throw new IllegalStateException(schema + " differs from " + a.get(i) + ":\n" + def + "\nvs\n" + expected);
                    }
                }
            }
        }
    }

    private void resetDigests() throws SQLException {
        if (digests) {
            try (Connection c = DataSources.connect(server.rootDsn(null)); Statement s = c.createStatement()) {
                s.execute("TRUNCATE TABLE performance_schema.events_statements_summary_by_digest");
            }
        }
    }

    /** With --digests: what the server spent its time on during (a), per statement shape. */
    private void printDigests(String phase, int tasks) throws SQLException {
        if (!digests) {
            return;
        }
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "%s: server time by statement shape (performance_schema digests)%n%9s %8s %10s %10s %9s  %s%n",
                phase, "count", "per task", "total ms", "avg ms", "rows/exec", "statement"));
        try (Connection c = DataSources.connect(server.rootDsn(null)); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT SUM(COUNT_STAR) n, SUM(SUM_TIMER_WAIT) / 1e9 total,"
                     + " SUM(SUM_TIMER_WAIT) / 1e9 / SUM(COUNT_STAR), DIGEST_TEXT, SUM(SUM_ROWS_EXAMINED) / SUM(COUNT_STAR)"
                     + " FROM performance_schema.events_statements_summary_by_digest"
                     + " GROUP BY DIGEST_TEXT ORDER BY total DESC LIMIT 20")) {
            while (rs.next()) {
                String text = String.valueOf(rs.getString(4));
                sb.append(String.format(Locale.ROOT, "%9d %8.2f %10.0f %10.3f %9.1f  %s%n", rs.getLong(1),
                        rs.getDouble(1) / tasks, rs.getDouble(2), rs.getDouble(3), rs.getDouble(5),
                        text.length() > 140 ? text.substring(0, 140) + "..." : text));
            }
        }
        System.out.print(sb);
    }

    // ---- server -------------------------------------------------------------------------------------------

    private Cpu cpu() {
        double serverCpu;
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(server.pid()), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            serverCpu = (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // utime + stime, in USER_HZ (100/s)
        } catch (IOException | RuntimeException e) {
            serverCpu = Double.NaN;
        }
        double jvm = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
        return new Cpu(serverCpu, jvm);
    }

    private long questions() throws SQLException {
        return Long.parseLong(status("Questions"));
    }

    private String status(String name) throws SQLException {
        try (Connection c = DataSources.connect(server.rootDsn(null)); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SHOW GLOBAL STATUS LIKE '" + name + "'")) {
            return rs.next() ? rs.getString(2) : "0";
        }
    }

    private String header() throws Exception {
        StringBuilder sb = new StringBuilder();
        sb.append("ShardSchema rollout benchmark, ").append(ZonedDateTime.now().format(STAMP)).append('\n');
        sb.append(machine(server)).append(" (catalog on the same server)\n");
        sb.append("versions: ");
        for (int i = 0; i < VERSIONS.size(); i++) {
            sb.append(i == 0 ? "" : " | ").append('v').append(i + 1).append(' ')
                    .append(ChangeStatement.sql(VERSIONS.get(i)[0], VERSIONS.get(i)[1]));
        }
        sb.append('\n');
        sb.append("a = shardschema run --workers ").append(WORKERS).append(" (perServerConcurrency ").append(WORKERS)
                .append("); b = same statements over ").append(WORKERS).append(" plain JDBC connections; c = over 1");
        return sb.toString();
    }

    // ---- output -------------------------------------------------------------------------------------------

    private static String table(List<Row> rows) {
        String head = "%-14s %6s | %8s %8s %8s | %5s %5s | %12s %11s | %10s %10s%n";
        String line = "%-14s %6d | %8.2f %8.2f %8.2f | %5.2f %5.2f | %12.2f %11.2f | %10.1f %10.1f%n";
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, head, "shards", "tasks", "a (s)", "b (s)", "c (s)", "a/b", "a/c",
                "catalog/task", "(a-b)/task", "stmts/task", "stmts/task"));
        sb.append(String.format(Locale.ROOT, head, "", "", "", "", "", "", "", "(ms, a)", "(ms)", "(a)", "(b)"));
        Map<Integer, List<Row>> bySize = new java.util.LinkedHashMap<>();
        rows.forEach(r -> bySize.computeIfAbsent(r.shards, k -> new ArrayList<>()).add(r));
        Map<Integer, double[]> medians = new java.util.LinkedHashMap<>();
        bySize.forEach((n, rs) -> {
            for (int i = 0; i < rs.size(); i++) {
                Row r = rs.get(i);
                sb.append(String.format(Locale.ROOT, line, rs.size() == 1 ? String.valueOf(n) : n + " round " + (i + 1),
                        r.tasks, r.a(), r.b(), r.c(), r.a() / r.b(), r.a() / r.c(), r.catalogPerTask(),
                        r.overheadPerTask(), (double) r.aStatements / r.tasks, (double) r.bStatements / r.tasks));
            }
            // {a/b, a/c, catalog/task, (a-b)/task}: medians over the rounds (ratios taken within each round).
            double[] m = {median(rs, r -> r.a() / r.b()), median(rs, r -> r.a() / r.c()), median(rs, Row::catalogPerTask),
                    median(rs, Row::overheadPerTask)};
            medians.put(n, m);
            if (rs.size() > 1) {
                sb.append(String.format(Locale.ROOT, line, n + " median", rs.get(0).tasks, median(rs, Row::a),
                        median(rs, Row::b), median(rs, Row::c), m[0], m[1], m[2], m[3],
                        median(rs, r -> (double) r.aStatements / r.tasks), median(rs, r -> (double) r.bStatements / r.tasks)));
            }
        });
        sb.append("catalog/task = Runner.Summary.catalogMillis / tasks: time spent waiting on catalog calls, summed over"
                + " the dispatcher and the 8 workers\n");
        sb.append("(a-b)/task = wall-clock overhead of the runner over 8 plain connections, per task;"
                + " stmts/task = server Questions per task (catalog + shard)\n");
        sb.append("CPU per task (ms; server = mariadbd, jvm = this process):\n");
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "  %d shards: a server %.2f + jvm %.2f | b server %.2f + jvm %.2f"
                            + " | c server %.2f + jvm %.2f%n", r.shards,
                    r.aCpu.server * 1e3 / r.tasks, r.aCpu.jvm * 1e3 / r.tasks, r.bCpu.server * 1e3 / r.tasks,
                    r.bCpu.jvm * 1e3 / r.tasks, r.cCpu.server * 1e3 / r.tasks, r.cCpu.jvm * 1e3 / r.tasks));
        }
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "  %d shards: runner's own time %d ms, catalog %d ms over all threads,"
                    + " setup (schemas, init, discover, versions) %.1f s%n", r.shards, r.runnerMillis, r.catalogMillis,
                    r.setupNanos / 1e9));
        }
        boolean ab = medians.values().stream().allMatch(m -> m[0] <= 1.3);
        sb.append(String.format(Locale.ROOT, "target a/b <= 1.3 at every size: %s%n", ab ? "met" : "MISSED"));
        int small = java.util.Collections.min(medians.keySet());
        int large = java.util.Collections.max(medians.keySet());
        if (small != large) {
            double catalogGrowth = medians.get(large)[2] / medians.get(small)[2];
            double wallGrowth = medians.get(large)[3] / medians.get(small)[3];
            sb.append(String.format(Locale.ROOT, "per-task overhead at %d vs %d shards: catalog %.2fx, wall-clock (a-b) %.2fx"
                            + " (target <= 1.5x): %s%n", large, small, catalogGrowth, wallGrowth,
                    catalogGrowth <= 1.5 && wallGrowth <= 1.5 ? "met" : "MISSED"));
        }
        return sb.toString();
    }

    private static double median(List<Row> rows, java.util.function.ToDoubleFunction<Row> f) {
        double[] v = rows.stream().mapToDouble(f).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

}
