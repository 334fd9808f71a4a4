package io.shardschema.cli;

import io.shardschema.catalog.OnlineCatalog;
import io.shardschema.catalog.Shard;
import io.shardschema.catalog.ShardName;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

/** What approve, cutover and cancel share: a version, optionally one shard, and a report of what moved. */
abstract class GateCommand implements Callable<Integer> {
    private final Context context;
    @Mixin
    JsonOption json;
    @Parameters(index = "0", paramLabel = "VERSION", description = "An online (pt-osc) version.")
    int version;
    @Option(names = "--shard", paramLabel = "ID", description = "Only this shard (default: every shard).")
    Long shard;

    GateCommand(Context context) {
        this.context = context;
    }

    /** The gate's catalog action. */
    abstract OnlineCatalog.GateResult apply(OnlineCatalog online, int version, Long shard);

    /** What the action did to a task, for the report: "approved", "cut-over requested", ... */
    abstract String verb();

    /** {@code shard}, {@code schema} and {@code server}: the one shard given, or null for every shard. */
    record Result(String action, int version, Long shard, String schema, String server, int tasks, int resumed)
            implements Report {
        @Override
        public String text() {
            return String.format("version %d%s: %s on %d started task(s); %d waiting shard(s) handed back to the"
                    + " runners", version, shard == null ? " (every shard)" : " " + ShardName.text(shard, schema, server),
                    action, tasks, resumed);
        }
    }

    @Override
    public Integer call() {
        Shard one = shard == null ? null : context.catalog().requireShard(shard);
        OnlineCatalog.GateResult r = apply(context.catalog().online(), version, shard);
        return context.print(new Result(verb(), version, shard, one == null ? null : one.schemaName(),
                one == null ? null : one.serverKey(), r.marked(), r.woken()), json);
    }
}
