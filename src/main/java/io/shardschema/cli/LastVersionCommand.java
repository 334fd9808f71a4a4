package io.shardschema.cli;

import io.shardschema.catalog.Run;
import io.shardschema.catalog.Shard;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

@Command(name = "last-version", mixinStandardHelpOptions = true, description = "The last version a shard reached"
        + " (prints the number), with its state and its latest run.")
final class LastVersionCommand implements Callable<Integer> {
    private final Context context;
    @Mixin
    JsonOption json;
    @Option(names = "--shard", required = true, paramLabel = "ID", description = "The shard.")
    long shard;

    LastVersionCommand(Context context) {
        this.context = context;
    }

    record Result(long shard, String schema, String server, int version, String state, Run lastRun) implements Report {
        @Override
        public String text() {
            return String.valueOf(version);
        }
    }

    @Override
    public Integer call() {
        Shard s = context.catalog().requireShard(shard);
        return context.print(new Result(shard, s.schemaName(), s.serverKey(), s.version(), s.state(),
                context.catalog().lastRun(shard).orElse(null)), json);
    }
}
