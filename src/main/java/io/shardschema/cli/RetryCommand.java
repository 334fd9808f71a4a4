package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Shard;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

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

    record Result(List<Long> retried) implements Report {
        @Override
        public String text() {
            return retried.isEmpty() ? "no failed shard to retry" : "retrying shards " + retried;
        }
    }

    @Override
    public Integer call() {
        List<Long> ids = which.all ? context.catalog().failedShardIds() : which.shards;
        for (long id : ids) {
            Shard s = context.catalog().requireShard(id);
            if (!s.state().equals("failed")) {
                throw ShardSchemaException.usage("shard " + id + " is not failed (it is " + s.state() + " at version "
                        + s.version() + "); nothing was changed");
            }
        }
        context.catalog().retry(ids);
        return context.print(new Result(ids), json);
    }
}
