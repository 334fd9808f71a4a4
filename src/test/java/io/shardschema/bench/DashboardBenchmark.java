package io.shardschema.bench;

import io.shardschema.catalog.Catalog;
import io.shardschema.config.DataSources;
import io.shardschema.embedded.MariaDbServer;
import io.shardschema.testing.RunnerProcess;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

import static io.shardschema.bench.BenchSupport.cli;
import static io.shardschema.bench.BenchSupport.deleteTree;
import static io.shardschema.bench.BenchSupport.machine;
import static io.shardschema.bench.BenchSupport.say;

/**
 * Does `serve` stay fast as the fleet grows? Times what the dashboard asks for (status, a 1,000-shard page of the
 * grid, the failed shards, a shard's runs, the metrics) against a fleet of 10,000 shards and, as the baseline in
 * the same run, against one of 100, and prints the ratios. The fleets are catalog rows (shards at mixed versions
 * and states, three runs each), on one MariaDB started for the purpose; `serve` runs as its own JVM.
 */
public final class DashboardBenchmark {
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm");
    private static final int WARMUP = 5;
    private static final int REQUESTS = 30;
    private static final Map<String, String> ENDPOINTS = new LinkedHashMap<>();

    static {
        ENDPOINTS.put("status", "/api/v1/status");
        ENDPOINTS.put("grid page", "/api/v1/shards?limit=1000");
        ENDPOINTS.put("failed shards", "/api/v1/shards?state=failed&limit=1000");
        ENDPOINTS.put("shard's runs", "/api/v1/shards/7/runs");
        ENDPOINTS.put("metrics", "/metrics");
    }

    private DashboardBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int small = 100;
        int large = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        Path dir = Path.of("target", "bench-dashboard").toAbsolutePath();
        deleteTree(dir);
        Files.createDirectories(dir);
        say("starting MariaDB in " + dir);
        MariaDbServer server = MariaDbServer.start(dir.resolve("server"), 0, List.of("--innodb-buffer-pool-size=512M"));
        try {
            Map<String, double[]> base = measure(server, dir, small);
            Map<String, double[]> big = measure(server, dir, large);
            String header = "ShardSchema dashboard benchmark, " + ZonedDateTime.now().format(STAMP) + "\n" + machine(server)
                    + "\nmedian and 95th percentile of " + REQUESTS + " sequential requests (after " + WARMUP
                    + " warm-up ones) to serve, in ms; baseline: the same fleet shape with " + small + " shards";
            System.out.println();
            System.out.println(header);
            System.out.printf(Locale.ROOT, "%-14s | %10s %10s | %10s %10s | %8s%n", "endpoint", small + " p50",
                    small + " p95", large + " p50", large + " p95", "ratio p50");
            for (String name : ENDPOINTS.keySet()) {
                double[] b = base.get(name);
                double[] l = big.get(name);
                System.out.printf(Locale.ROOT, "%-14s | %10.1f %10.1f | %10.1f %10.1f | %8.2f%n", name, b[0], b[1], l[0],
                        l[1], l[0] / b[0]);
            }
        } finally {
            server.stop();
        }
    }

    /** Makes a fleet of {@code shards} in its own catalog, serves it, and times every endpoint: {p50, p95} in ms. */
    private static Map<String, double[]> measure(MariaDbServer server, Path dir, int shards) throws Exception {
        String catalogDb = "dash_" + shards;
        Path config = dir.resolve(catalogDb + ".cnf");
        Files.writeString(config, "dbDSN=" + server.rootDsn(catalogDb).toGoForm(true) + "\n"
                + "throttlingFile=" + dir.resolve("throttle") + "\n" + "stopFile=" + dir.resolve("stop") + "\n");
        cli(config, "init");
        say(shards + " shards: registering and giving them a history");
        try (Catalog catalog = Catalog.open(server.rootDsn(catalogDb), 2)) {
            catalog.addShards(IntStream.rangeClosed(1, shards).mapToObj(i -> String.format("app_%06d", i)).toList(),
                    server.rootDsn(null), null);
        }
        for (String column : List.of("a", "b", "c")) {
            cli(config, "version", "add", "--no-preflight", "--table", "t", "--command", "ADD COLUMN " + column + " INT");
        }
        try (Connection c = DataSources.connect(server.rootDsn(catalogDb)); Statement s = c.createStatement()) {
            // 70% done, 20% at version 2, 5% failed at version 1 (drifted), 5% running version 1.
            s.execute("UPDATE shards SET version = CASE WHEN shardId % 20 < 14 THEN 3 WHEN shardId % 20 < 18 THEN 2 ELSE 1 END");
            s.execute("UPDATE shards SET state = IF(shardId % 20 = 18, 'failed', 'running'), task = 'bench#1'"
                    + " WHERE shardId % 20 >= 18");
            s.execute("UPDATE shards SET task = NULL WHERE state = 'failed'");
            for (int v = 1; v <= 3; v++) {
                s.execute("INSERT INTO log (shardId, version, run, state, message, startedAt, finishedAt)"
                        + " SELECT shardId, " + v + ", 1, IF(version >= " + v + ", 'applied', 'drifted'), 'bench',"
                        + " NOW(3) - INTERVAL 1 HOUR, NOW(3) - INTERVAL 1 HOUR + INTERVAL (shardId % 90) SECOND"
                        + " FROM shards WHERE version >= " + v + " OR (state = 'failed' AND version = " + (v - 1) + ")");
            }
        }
        RunnerProcess serve = RunnerProcess.command(config, dir, catalogDb + ".serve", "serve", "--port", "0");
        try {
            String base = serve.awaitServing();
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            Map<String, double[]> out = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : ENDPOINTS.entrySet()) {
                HttpRequest request = HttpRequest.newBuilder(URI.create(base + e.getValue()))
                        .timeout(Duration.ofSeconds(60)).build();
                List<Double> millis = new ArrayList<>();
                for (int i = 0; i < WARMUP + REQUESTS; i++) {
                    long start = System.nanoTime();
                    HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
                    double ms = (System.nanoTime() - start) / 1e6;
                    if (r.statusCode() != 200) {
                        throw new IllegalStateException(e.getValue() + " answered " + r.statusCode() + ": " + r.body());
                    }
                    if (i >= WARMUP) {
                        millis.add(ms);
                    }
                }
                double[] sorted = millis.stream().mapToDouble(Double::doubleValue).sorted().toArray();
                out.put(e.getKey(), new double[]{sorted[sorted.length / 2], sorted[(int) Math.ceil(sorted.length * 0.95) - 1]});
                say(String.format(Locale.ROOT, "  %s: %s", e.getKey(), Arrays.toString(out.get(e.getKey()))));
            }
            return out;
        } finally {
            serve.kill();
        }
    }
}
