package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Shard;
import io.shardschema.catalog.ShardName;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "retry", mixinStandardHelpOptions = true, description = "Let failed shards run again (their attempts start from zero).")
final class RetryCommand implements Callable<Integer> {
    private final Context context;
    @Mixin
    JsonOption json;
    @ArgGroup(exclusive = true, multiplicity = "1")
    Which which;

    static final class Which {
        @Option(names = "--shard", description = "A failed shard's id (repeatable).")
        List<Long> shards;
        @Option(names = "--all", description = "Every failed shard.")
        boolean all;
    }

    RetryCommand(Context context) {
        this.context = context;
    }

    /** The ids of the shards retried, and the same shards named ({@code named}). */
    record Result(List<Long> retried, List<ShardName> named) implements Report {
        @Override
        public String text() {
            return retried.isEmpty() ? "no failed shard to retry"
                    : "retrying " + String.join(", ", named.stream().map(ShardName::text).toList());
        }
    }

    @Override
    public Integer call() {
        List<Long> ids = which.all ? context.catalog().failedShardIds() : which.shards;
        List<ShardName> named = new ArrayList<>();
        for (long id : ids) {
            Shard s = context.catalog().requireShard(id);
            if (!s.state().equals("failed")) {
                throw ShardSchemaException.usage("shard " + id + " is not failed (it is " + s.state() + " at version "
                        + s.version() + "); nothing was changed");
            }
            named.add(s.name());
        }
        context.catalog().retry(ids);
        return context.print(new Result(ids, named), json);
    }
}
