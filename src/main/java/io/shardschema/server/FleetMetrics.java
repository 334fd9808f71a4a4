package io.shardschema.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shardschema.catalog.Catalog;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The fleet's metrics in Prometheus format, read from the catalog at every scrape, so they cover every runner on
 * every machine, not only this process: tasks by version and state (the same numbers as `status`, from the same
 * command), online copy progress, throttle state, in-flight tasks per server, and every run that ended since this
 * server started, by result and with its duration in a histogram.
 */
public final class FleetMetrics {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> TASK_STATES = List.of("done", "running", "waiting", "pending", "failed", "blocked");
    /**
     * Runs are looked for this far back at every scrape: a run is counted once it is visible, even when its
     * transaction committed a while after its finishedAt was set.
     */
    private static final int RUN_WINDOW_SECONDS = 300;
    private static final Duration[] RUN_BUCKETS = {Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(1),
            Duration.ofSeconds(5), Duration.ofSeconds(15), Duration.ofMinutes(1), Duration.ofMinutes(5),
            Duration.ofMinutes(30), Duration.ofHours(2), Duration.ofHours(8)};

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Commands commands;
    private final Catalog catalog;
    private final MultiGauge tasks;
    private final MultiGauge onlineTasks;
    private final MultiGauge onlineProgress;
    private final MultiGauge inFlight;
    private final MultiGauge fleet;
    private final int stallSeconds;
    /** Runs count from the server's start, as counters of a process do. */
    private final Instant since;
    /** The runs of the window already counted, with when they ended (older ones are forgotten). */
    private final Map<String, Instant> counted = new HashMap<>();

    public FleetMetrics(Commands commands, Catalog catalog, int stallSeconds) {
        this.commands = commands;
        this.catalog = catalog;
        this.stallSeconds = stallSeconds;
        this.since = catalog.now();
        tasks = MultiGauge.builder("shardschema.tasks")
                .description("Shards per version and state, as `status` counts them").register(registry);
        onlineTasks = MultiGauge.builder("shardschema.online.tasks")
                .description("Online tasks per version and phase").register(registry);
        onlineProgress = MultiGauge.builder("shardschema.online.progress.percent")
                .description("Mean copy progress of a version's online tasks in a phase").register(registry);
        inFlight = MultiGauge.builder("shardschema.inflight.tasks")
                .description("Tasks being worked now per MySQL server (host:port)").register(registry);
        fleet = MultiGauge.builder("shardschema.fleet")
                .description("Fleet-wide figures: shards, paused (1/0), worker_limit (-1: none), stop_file (1/0),"
                        + " runners, stalled, pinned").register(registry);
    }

    /** Reads the catalog and renders every metric. */
    public synchronized String scrape() {
        JsonNode status = status();
        List<MultiGauge.Row<?>> taskRows = new ArrayList<>();
        List<MultiGauge.Row<?>> onlineRows = new ArrayList<>();
        List<MultiGauge.Row<?>> progressRows = new ArrayList<>();
        for (JsonNode v : status.path("versions")) {
            String version = v.path("version").asText();
            for (String state : TASK_STATES) {
                taskRows.add(MultiGauge.Row.of(Tags.of("version", version, "state", state), v.path(state).asInt()));
            }
            for (JsonNode phase : v.path("online")) {
                Tags tags = Tags.of("version", version, "phase", phase.path("phase").asText());
                onlineRows.add(MultiGauge.Row.of(tags, phase.path("tasks").asInt()));
                if (phase.hasNonNull("meanProgress")) {
                    progressRows.add(MultiGauge.Row.of(tags, phase.path("meanProgress").asDouble()));
                }
            }
        }
        tasks.register(taskRows, true);
        onlineTasks.register(onlineRows, true);
        onlineProgress.register(progressRows, true);
        JsonNode throttle = status.path("throttleState");
        fleet.register(List.of(
                row("shards", status.path("shards").asInt()),
                row("paused", throttle.path("paused").asBoolean() ? 1 : 0),
                row("worker_limit", throttle.hasNonNull("workerLimit") ? throttle.path("workerLimit").asInt() : -1),
                row("stop_file", status.path("stopFilePresent").asBoolean() ? 1 : 0),
                row("runners", status.path("runners").size()),
                row("stalled", status.path("stalled").size()),
                row("pinned", status.path("pinned").asInt())), true);
        List<MultiGauge.Row<?>> serverRows = new ArrayList<>();
        for (Map.Entry<String, Integer> e : catalog.runningPerServer(stallSeconds).entrySet()) {
            serverRows.add(MultiGauge.Row.of(Tags.of("server", e.getKey()), e.getValue()));
        }
        inFlight.register(serverRows, true);
        countFinishedRuns();
        return registry.scrape();
    }

    private static MultiGauge.Row<?> row(String figure, Number value) {
        return MultiGauge.Row.of(Tags.of("figure", figure), value);
    }

    private JsonNode status() {
        Commands.Outcome outcome = commands.run(List.of("status", "--json"));
        if (outcome.error() != null) {
            throw new ApiError(503, "cannot read the catalog: " + outcome.error());
        }
        try {
            return JSON.readTree(outcome.stdout());
        } catch (IOException e) {
            throw new IllegalStateException("status printed no JSON", e);
        }
    }

    /** Adds the runs that ended since the last scrape to the run counters and the duration histogram. */
    private void countFinishedRuns() {
        List<Catalog.FinishedRun> runs = catalog.finishedRuns(since, RUN_WINDOW_SECONDS);
        Instant oldest = runs.isEmpty() ? null : runs.get(0).finishedAt();
        counted.values().removeIf(end -> oldest == null || end.isBefore(oldest));
        for (Catalog.FinishedRun r : runs) {
            String key = r.shardId() + "/" + r.version() + "/" + r.run() + (r.down() ? "/down" : "");
            if (counted.putIfAbsent(key, r.finishedAt()) != null) {
                continue;
            }
            Counter.builder("shardschema.runs").description("Runs that ended since serve started, by result")
                    .tag("result", r.state()).register(registry).increment();
            Timer.builder("shardschema.run.duration").description("How long runs took, by result")
                    .tag("result", r.state()).serviceLevelObjectives(RUN_BUCKETS).register(registry)
                    .record(Duration.ofMillis(r.millis()));
        }
    }
}
