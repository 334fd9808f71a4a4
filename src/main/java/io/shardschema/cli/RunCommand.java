package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Catalog;
import io.shardschema.catalog.ShardName;
import io.shardschema.config.Config;
import io.shardschema.runner.Runner;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "run", mixinStandardHelpOptions = true, description = "Claim and apply pending tasks until none is left (with --follow: keep polling"
        + " for new versions and shards). Obeys the throttling file and the stop file. Exit 3 when shards failed.")
final class RunCommand implements Callable<Integer> {
    private final Context context;
    @Mixin
    JsonOption json;
    @Option(names = "--workers", description = "Worker pool size (default: the config's workers).")
    Integer workers;
    @Option(names = "--follow", description = "Keep running and polling after the work is done.")
    boolean follow;
    @Option(names = "--progress", description = "Show a progress bar on stderr.")
    boolean progress;

    RunCommand(Context context) {
        this.context = context;
    }

    /** At most this many failed shards are named; `status` and `shard list --state failed` have them all. */
    private static final int LISTED = 20;

    /** {@code failedShards}: how many shards are failed (by any runner); {@code failed}: the first of them, named. */
    record Result(Runner.Summary summary, int failedShards, List<ShardName> failed) implements Report {
        @Override
        public String text() {
            Runner.Summary s = summary;
            return String.format("runner %s: %d tasks in %.1f s: %d applied, %d already applied, %d to retry,"
                            + " %d failed, %d refused, %d waiting at a gate, %d leases lost, %d taken over%s%s",
                    s.runner(), s.tasks(), s.millis() / 1000.0, s.applied(), s.alreadyApplied(), s.retryLater(),
                    s.failed(), s.refused(), s.waiting(),
                    s.leasesLost(), s.takeovers(),
                    s.stoppedByStopFile() ? "; stopped by the stop file" : "",
                    failedShards > 0 ? "\n" + failedShards + " shards are failed: "
                            + String.join(", ", failed.stream().map(ShardName::text).toList())
                            + (failedShards > failed.size() ? " and " + (failedShards - failed.size()) + " more" : "")
                            + ": see `shardschema status` and `shardschema log`" : "");
        }
    }

    @Override
    public Integer call() {
        if (workers != null && (workers < 1 || workers > Config.MAX_WORKERS)) {
            throw ShardSchemaException.usage("--workers must be in 1.." + Config.MAX_WORKERS);
        }
        if (workers != null) {
            context.useWorkers(workers);
        }
        Config config = context.config();
        Catalog catalog = context.catalog();
        Result result = run(catalog, config, config.workers(), follow, progress);
        context.print(result, json);
        // A refusal is the stronger news: a safety check stopped a change that would have blocked writes.
        return result.summary.refused() > 0 ? ShardSchemaException.REFUSED
                : result.failedShards > 0 ? ShardSchemaException.SOME_FAILED : 0;
    }

    /** Runs a runner to the end, optionally with a progress bar; shared with the demo. */
    static Result run(Catalog catalog, Config config, int workers, boolean follow, boolean progress) {
        Runner.Summary summary;
        if (progress) {
            long pending = StatusCommand.build(catalog, config).pendingTasks();
            try (ProgressBar bar = new ProgressBarBuilder().setTaskName("rollout").setInitialMax(pending)
                    .setStyle(ProgressBarStyle.ASCII).setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.err))
                    .build()) {
                summary = new Runner(catalog, config, workers, follow, (shard, version, outcome) -> {
                    if (!outcome.equals("RETRY_LATER") && !outcome.equals("LEASE_LOST")) {
                        bar.step();
                    }
                }, Clock.systemUTC()).run();
            }
        } else {
            summary = new Runner(catalog, config, workers, follow, (shard, version, outcome) -> { }, Clock.systemUTC()).run();
        }
        return new Result(summary, catalog.failedShardIds().size(), catalog.failedShards(LISTED));
    }
}
