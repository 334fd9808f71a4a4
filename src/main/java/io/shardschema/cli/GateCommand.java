package io.shardschema.cli;

import io.shardschema.catalog.OnlineCatalog;
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

    record Result(String action, int version, Long shard, int tasks, int resumed) implements Report {
        @Override
        public String text() {
            return String.format("version %d%s: %s on %d started task(s); %d waiting shard(s) handed back to the"
                    + " runners", version, shard == null ? " (every shard)" : " shard " + shard, action, tasks, resumed);
        }
    }

    @Override
    public Integer call() {
        if (shard != null) {
            context.catalog().requireShard(shard);
        }
        OnlineCatalog.GateResult r = apply(context.catalog().online(), version, shard);
        return context.print(new Result(verb(), version, shard, r.marked(), r.woken()), json);
    }
}
