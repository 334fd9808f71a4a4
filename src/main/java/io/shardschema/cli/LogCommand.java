package io.shardschema.cli;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import io.shardschema.catalog.OnlineCatalog;
import io.shardschema.catalog.Run;
import io.shardschema.catalog.ShardName;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Map;
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

    /** A run with its shard's schema and server; in JSON the run's fields stay at the top level. */
    record NamedRun(@JsonUnwrapped Run run, String schema, String server) {
    }

    /** An online task with its shard's schema and server; in JSON the task's fields stay at the top level. */
    record NamedTask(@JsonUnwrapped OnlineCatalog.Task task, String schema, String server) {
    }

    record Result(List<NamedRun> runs, List<NamedTask> online) implements Report {
        @Override
        public String text() {
            StringBuilder sb = new StringBuilder();
            for (NamedRun named : runs) {
                Run r = named.run();
                sb.append(String.format("%s version %d run %d: %s (runner %s, %s -> %s)%n",
                        ShardName.text(r.shardId(), named.schema(), named.server()), r.version(),
                        r.run(), r.state(), r.runner(), r.startedAt(), r.finishedAt()));
                line(sb, "message", r.message());
                line(sb, "executed", r.executed());
                line(sb, "output", r.output());
                line(sb, "error", r.err());
            }
            sb.append(runs.size()).append(" runs");
            for (NamedTask named : online) {
                OnlineCatalog.Task t = named.task();
                sb.append(String.format("%nonline: %s version %d: %s", ShardName.text(t.shardId(), named.schema(),
                        named.server()), t.version(), t.describe()));
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
        List<Run> runs = context.catalog().runs(shard, version, limit);
        List<OnlineCatalog.Task> tasks = context.catalog().online().tasks(version, shard, limit);
        Map<Long, ShardName> names = context.catalog().names(java.util.stream.Stream.concat(
                runs.stream().map(Run::shardId), tasks.stream().map(OnlineCatalog.Task::shardId)).toList());
        return context.print(new Result(
                runs.stream().map(r -> new NamedRun(r, schema(names, r.shardId()), server(names, r.shardId()))).toList(),
                tasks.stream().map(t -> new NamedTask(t, schema(names, t.shardId()), server(names, t.shardId()))).toList()),
                json);
    }

    private static String schema(Map<Long, ShardName> names, long id) {
        ShardName n = names.get(id);
        return n == null ? null : n.schema();
    }

    private static String server(Map<Long, ShardName> names, long id) {
        ShardName n = names.get(id);
        return n == null ? null : n.server();
    }
}
