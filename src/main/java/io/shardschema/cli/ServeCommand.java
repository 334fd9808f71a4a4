package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Catalog;
import io.shardschema.config.Config;
import io.shardschema.runner.Runner;
import io.shardschema.server.ApiServer;
import io.shardschema.server.FleetMetrics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

@Command(name = "serve", mixinStandardHelpOptions = true, description = "Serve the JSON API (/api/v1), the web"
        + " dashboard (/) and Prometheus metrics (/metrics) until stopped (SIGTERM or Ctrl-C). Changes need"
        + " Authorization: Bearer <apiToken>. With --run the same process also runs a runner (as `run --follow`).")
final class ServeCommand implements Callable<Integer> {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ServeCommand.class);
    private final Context context;
    @Option(names = "--port", defaultValue = "8080", description = "TCP port (default 8080; 0: any free port).")
    int port;
    @Option(names = "--bind", defaultValue = "127.0.0.1", paramLabel = "ADDR",
            description = "Address to listen on (default 127.0.0.1: this machine only).")
    String bind;
    @Option(names = "--run", description = "Also run a runner in this process.")
    boolean run;
    @Option(names = "--workers", description = "With --run: the runner's worker pool size (default: the config's workers).")
    Integer workers;

    ServeCommand(Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) {
            throw ShardSchemaException.usage("--port must be in 0..65535");
        }
        if (workers != null && (!run || workers < 1 || workers > Config.MAX_WORKERS)) {
            throw ShardSchemaException.usage("--workers goes with --run and must be in 1.." + Config.MAX_WORKERS);
        }
        Config config = context.config();
        Catalog catalog = context.catalog();
        Catalog runnerCatalog = null;
        ApiServer server;
        InProcess commands = new InProcess(config, catalog);
        try {
            server = ApiServer.start(bind, port, commands, new FleetMetrics(commands, catalog, config.stallSeconds()),
                    config);
        } catch (IOException e) {
            throw ShardSchemaException.error("cannot listen on " + bind + ":" + port + ": " + e.getMessage());
        }
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        // SIGTERM or Ctrl-C: wake the command up and wait until it has stopped everything it started.
        Thread hook = new Thread(() -> {
            stop.countDown();
            try {
                stopped.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        AtomicReference<Throwable> runnerDied = new AtomicReference<>();
        Runner runner = null;
        Thread runnerThread = null;
        try {
            try {
                if (run) {
                    // Its own pool: a busy API cannot starve the runner's claims and heartbeats, nor the other way.
                    int n = workers != null ? workers : config.workers();
                    runnerCatalog = Catalog.open(catalog.dsn(), n + 4);
                    runner = new Runner(runnerCatalog, config, n, true, (s, v, o) -> { }, Clock.systemUTC());
                    Runner started = runner;
                    runnerThread = new Thread(() -> {
                        try {
                            started.run();
                        } catch (RuntimeException e) {
                            // The catalog was gone for longer than stallSeconds: serve stops too, as `run` would.
                            runnerDied.set(e);
                            stop.countDown();
                        }
                    }, "runner");
                    runnerThread.start();
                }
                context.out.println("serving http://" + bind + ":" + server.port() + "/" + (run ? " with a runner" : ""));
                context.out.flush();
                if (config.apiToken().isEmpty()) {
                    context.warn("no apiToken in the config: the API accepts no change (reads only)");
                }
                stop.await();
                if (runnerDied.get() != null) {
                    throw ShardSchemaException.error("the runner stopped: " + runnerDied.get().getMessage());
                }
                return 0;
            } finally {
                server.close();
                if (runnerThread != null) {
                    log.info("stopping: the runner takes no new task and ends when its running tasks end"
                            + " (SIGKILL to stop at once; other runners take the tasks over after stallSeconds)");
                    runner.requestStop();
                    runnerThread.join();
                }
                if (runnerCatalog != null) {
                    runnerCatalog.close();
                }
                context.close();
            }
        } finally {
            stopped.countDown();
        }
    }
}
