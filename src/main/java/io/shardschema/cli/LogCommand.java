package io.shardschema.cli;

import io.shardschema.catalog.OnlineCatalog;
import io.shardschema.catalog.Run;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "log", description = "Show runs: what was executed, its output and its error; and the phase, progress and"
        + " time left of online changes.")
final class LogCommand implements Callable<Integer> {
    private final Context context;
    @Mixin
    JsonOption json;
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;
    @Option(names = "--shard", description = "Only this shard.")
    Long shard;
    @Option(names = "--version", description = "Only this version.")
    Integer version;
    @Option(names = "--limit", defaultValue = "200", description = "At most this many runs (default 200).")
    int limit;

    LogCommand(Context context) {
        this.context = context;
    }

    record Result(List<Run> runs, List<OnlineCatalog.Task> online) implements Report {
        @Override
        public String text() {
            StringBuilder sb = new StringBuilder();
            for (Run r : runs) {
                sb.append(String.format("shard %d version %d run %d: %s (runner %s, %s -> %s)%n", r.shardId(), r.version(),
                        r.run(), r.state(), r.runner(), r.startedAt(), r.finishedAt()));
                line(sb, "message", r.message());
                line(sb, "executed", r.executed());
                line(sb, "output", r.output());
                line(sb, "error", r.err());
            }
            sb.append(runs.size()).append(" runs");
            for (OnlineCatalog.Task t : online) {
                sb.append(String.format("%nonline: shard %d version %d: %s", t.shardId(), t.version(), t.describe()));
            }
            return sb.toString();
        }

        private static void line(StringBuilder sb, String label, String value) {
            if (value != null && !value.isEmpty()) {
                sb.append("  ").append(label).append(": ").append(value.replace("\n", "\n    ")).append('\n');
            }
        }
    }

    @Override
    public Integer call() {
        if (limit < 1) {
            throw io.shardschema.ShardSchemaException.usage("--limit must be at least 1");
        }
        if (shard != null) {
            context.catalog().requireShard(shard);
        }
        return context.print(new Result(context.catalog().runs(shard, version, limit),
                context.catalog().online().tasks(version, shard, limit)), json);
    }
}
