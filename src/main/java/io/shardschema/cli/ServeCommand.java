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
import java.util.concurrent.TimeUnit;

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
        if (workers != null && (!run || workers < 1)) {
            throw ShardSchemaException.usage("--workers goes with --run and must be at least 1");
        }
        Config config = context.config();
        Catalog catalog = context.catalog();
        Catalog runnerCatalog = null;
        Thread runner = null;
        ApiServer server;
        InProcess commands = new InProcess(config, catalog);
        try {
            server = ApiServer.start(bind, port, commands, new FleetMetrics(commands, catalog),
                    config.apiToken().orElse(null), config.apiOpenReads());
        } catch (IOException e) {
            throw ShardSchemaException.error("cannot listen on " + bind + ":" + port + ": " + e.getMessage());
        }
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stop.countDown();
            try {
                stopped.await(5, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            if (run) {
                // Its own pool: a busy API cannot starve the runner's claims and heartbeats, nor the other way round.
                int n = workers != null ? workers : config.workers();
                Catalog own = Catalog.open(catalog.dsn(), n + 4);
                runnerCatalog = own;
                runner = new Thread(() -> new Runner(own, config, n, true, (s, v, o) -> { }, Clock.systemUTC()).run(),
                        "runner");
                runner.start();
            }
            context.out.println("serving http://" + bind + ":" + server.port() + "/" + (run ? " with a runner" : ""));
            context.out.flush();
            if (config.apiToken().isEmpty()) {
                context.warn("no apiToken in the config: the API accepts no change (reads only)");
            }
            stop.await();
            log.info("stopping: the HTTP server now, the runner after its running tasks end");
            return 0;
        } finally {
            server.close();
            if (runner != null) {
                runner.interrupt();
                runner.join();
            }
            if (runnerCatalog != null) {
                runnerCatalog.close();
            }
            context.close();
            stopped.countDown();
        }
    }
}
