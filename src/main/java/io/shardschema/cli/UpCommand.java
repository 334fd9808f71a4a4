package io.shardschema.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

@Command(name = "up", mixinStandardHelpOptions = true, description = "Release the pin `down` set, so that `run` takes"
        + " the shards to the latest version again; or, with --to, move the pin to version V.")
final class UpCommand implements Callable<Integer> {
    private final Context context;
    @Mixin
    JsonOption json;
    @Option(names = "--to", paramLabel = "V", description = "Pin at this version instead of"
            + " following the latest: 0 or a version; below the shards' version it is checked as `down` checks it.")
    Integer to;
    @Option(names = "--shard", paramLabel = "ID", description = "Only this shard (default: every shard).")
    Long shard;

    UpCommand(Context context) {
        this.context = context;
    }

    record Result(Integer to, int shards) implements Report {
        @Override
        public String text() {
            return shards + " shard(s) " + (to == null ? "follow the latest version again" : "pinned at version " + to)
                    + "; `shardschema run` takes them there";
        }
    }

    @Override
    public Integer call() {
        if (to != null) {
            DownCommand.checkWayDown(context, shard, to);
        } else if (shard != null) {
            context.catalog().requireShard(shard);
        }
        return context.print(new Result(to, context.catalog().pin(shard, to)), json);
    }
}
