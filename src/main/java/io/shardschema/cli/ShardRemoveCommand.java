package io.shardschema.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

@Command(name = "remove", mixinStandardHelpOptions = true, description = "Unregister a shard (and its log rows). The schema itself is not touched.")
final class ShardRemoveCommand implements Callable<Integer> {
    private final Context context;
    @Mixin
    JsonOption json;
    @Parameters(paramLabel = "ID", description = "Shard id.")
    long id;

    ShardRemoveCommand(Context context) {
        this.context = context;
    }

    record Result(long removed) implements Report {
        @Override
        public String text() {
            return "removed shard " + removed;
        }
    }

    @Override
    public Integer call() {
        context.catalog().removeShard(id);
        return context.print(new Result(id), json);
    }
}
