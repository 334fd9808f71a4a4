package io.shardschema.cli;

import io.shardschema.catalog.Shard;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "list", mixinStandardHelpOptions = true, description = "List the registered shards with their version and state.")
final class ShardListCommand implements Callable<Integer> {
    private final Context context;
    @Mixin
    JsonOption json;

    ShardListCommand(Context context) {
        this.context = context;
    }

    record Result(List<Shard> shards) implements Report {
        @Override
        public String text() {
            StringBuilder sb = new StringBuilder(String.format("%-8s %-30s %-8s %-8s %s%n", "SHARD", "SCHEMA", "VERSION",
                    "STATE", "DSN"));
            for (Shard s : shards) {
                sb.append(String.format("%-8d %-30s %-8d %-8s %s%n", s.id(), s.schemaName(), s.version(), s.state(),
                        io.shardschema.config.Dsn.mask(s.dsn())));
            }
            sb.append(shards.size()).append(" shards");
            return sb.toString();
        }
    }

    @Override
    public Integer call() {
        List<Shard> shards = context.catalog().shards().stream()
                .map(s -> new Shard(s.id(), s.schemaName(), io.shardschema.config.Dsn.mask(s.dsn()), s.version(),
                        s.state(), s.task(), s.lastTaskHb(), s.attempts(), s.serverKey()))
                .toList();
        return context.print(new Result(shards), json);
    }
}
