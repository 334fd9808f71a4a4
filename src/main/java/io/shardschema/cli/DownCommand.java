package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Shard;
import io.shardschema.catalog.Version;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "down", mixinStandardHelpOptions = true, description = "Send shards back to version V: pins them there,"
        + " so that `run` applies the rollbacks of the versions above V, newest first, with the same runner, leases,"
        + " logging and throttle as going up. `up` releases the pin. Refused (exit 4) when a version on the way has"
        + " no rollback.")
final class DownCommand implements Callable<Integer> {
    private final Context context;
    @Mixin
    JsonOption json;
    @Option(names = "--to", required = true, paramLabel = "V", description = "The version to go back to (0: before"
            + " every version).")
    int to;
    @Option(names = "--shard", paramLabel = "ID", description = "Only this shard (default: every shard).")
    Long shard;

    DownCommand(Context context) {
        this.context = context;
    }

    record Result(int to, int pinnedShards, List<Integer> rolledBack) implements Report {
        @Override
        public String text() {
            return pinnedShards + " shard(s) pinned at version " + to + "; `shardschema run` rolls back "
                    + (rolledBack.isEmpty() ? "nothing (none is above it)" : "versions " + rolledBack) + " where applied";
        }
    }

    @Override
    public Integer call() {
        List<Integer> rolledBack = checkWayDown(context, shard, to);
        int pinned = context.catalog().pin(shard, to);
        return context.print(new Result(to, pinned, rolledBack), json);
    }

    /**
     * Checks that the shards ({@code shard}, or every shard) may be pinned at {@code to}: 0 or a version that exists,
     * and every version above it that they reached has a rollback. Returns those versions, newest first. `up --to`
     * goes through here too: pinning below a shard's version is a way down, whichever command asks for it.
     */
    static List<Integer> checkWayDown(Context context, Long shard, int to) {
        List<Version> versions = context.catalog().versions();
        if (to < 0 || to > 0 && versions.stream().noneMatch(v -> v.number() == to)) {
            throw ShardSchemaException.usage("--to " + to + " is not a version; give 0 or one that `version list` shows");
        }
        List<Shard> targets = shard != null ? List.of(context.catalog().requireShard(shard)) : context.catalog().shards();
        int highest = targets.stream().mapToInt(Shard::version).max().orElse(0);
        List<Version> way = versions.stream().filter(v -> v.number() > to && v.number() <= highest).toList();
        List<Integer> missing = way.stream().filter(v -> !v.hasRollback()).map(Version::number).toList();
        if (!missing.isEmpty()) {
            throw new ShardSchemaException(ShardSchemaException.REFUSED, "versions " + missing + " have no rollback,"
                    + " so the shards cannot go below them; nothing was changed (a version's rollback is given with"
                    + " `version add --rollback`, or derived for added columns, indexes and tables)");
        }
        return way.stream().map(Version::number).sorted(java.util.Comparator.reverseOrder()).toList();
    }
}
