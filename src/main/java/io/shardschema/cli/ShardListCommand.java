package io.shardschema.cli;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import io.shardschema.catalog.Shard;
import io.shardschema.config.Dsn;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "list", mixinStandardHelpOptions = true, description = "List the registered shards with their version, state and replicas.")
final class ShardListCommand implements Callable<Integer> {
    private final Context context;
    @Mixin
    JsonOption json;

    ShardListCommand(Context context) {
        this.context = context;
    }

    /** A shard with its replica DSNs; in JSON the shard's own fields stay at the top level of its entry. */
    record Listed(@JsonUnwrapped Shard shard, List<String> replicas) {
    }

    record Result(List<Listed> shards) implements Report {
        @Override
        public String text() {
            StringBuilder sb = new StringBuilder(String.format("%-8s %-30s %-8s %-8s %s%n", "SHARD", "SCHEMA", "VERSION",
                    "STATE", "DSN"));
            for (Listed l : shards) {
                Shard s = l.shard();
                sb.append(String.format("%-8d %-30s %-8d %-8s %s%n", s.id(), s.schemaName(), s.version(), s.state(),
                        s.dsn()));
                l.replicas().forEach(r -> sb.append(String.format("%-8s replica %s%n", "", r)));
            }
            sb.append(shards.size()).append(" shards");
            return sb.toString();
        }
    }

    @Override
    public Integer call() {
        Map<Long, List<String>> replicas = context.catalog().replicas();
        List<Listed> shards = context.catalog().shards().stream()
                .map(s -> new Listed(new Shard(s.id(), s.schemaName(), Dsn.mask(s.dsn()), s.version(),
                        s.state(), s.task(), s.lastTaskHb(), s.attempts(), s.serverKey()),
                        replicas.getOrDefault(s.id(), List.of()).stream().map(Dsn::mask).toList()))
                .toList();
        return context.print(new Result(shards), json);
    }
}
