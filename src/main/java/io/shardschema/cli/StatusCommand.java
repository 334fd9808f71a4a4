package io.shardschema.cli;

import io.shardschema.Printable;
import io.shardschema.catalog.Catalog;
import io.shardschema.catalog.OnlineCatalog;
import io.shardschema.catalog.Run;
import io.shardschema.catalog.Shard;
import io.shardschema.catalog.ShardName;
import io.shardschema.catalog.Version;
import io.shardschema.config.Config;
import io.shardschema.runner.ThrottleControl;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;

@Command(name = "status", mixinStandardHelpOptions = true, description = "Per version: shards done / running / waiting at a gate / pending / failed / blocked;"
        + " online changes by phase with their progress; the failed (drifted, refused) shards and those waiting"
        + " at a gate, by name; stalled tasks; throttle state.")
final class StatusCommand implements Callable<Integer> {
    /** At most this many shards are listed per kind of trouble; `log` and `shard list` have the rest. */
    private static final int LISTED = 20;
    private final Context context;
    @Mixin
    JsonOption json;

    StatusCommand(Context context) {
        this.context = context;
    }

    /** Shards by state for one version. Blocked: failed at an earlier version, so waiting for a retry. */
    record VersionStatus(int version, String table, String type, int done, int running, int waiting, int pending,
                         int failed, int blocked, List<OnlineCatalog.PhaseSummary> online) {
    }

    /** A task whose runner stopped heartbeating; {@code fromVersion} is the shard's version. */
    record StalledTask(long shardId, String schema, String server, int fromVersion, String task,
                       java.time.Instant lastHeartbeat) {
    }

    /**
     * {@code failed}: failed shards, however their last run ended (drifted and refused ones too); {@code waiting}:
     * shards waiting at a gate. Each list holds at most {@link #LISTED} shards; {@code failedShards},
     * {@code waitingShards}, {@code driftedShards} and {@code refusedShards} say how many there are in all.
     */
    record Result(int shards, List<VersionStatus> versions, List<StalledTask> stalled,
                  List<Catalog.HeldShard> drifted, List<Catalog.HeldShard> refused, int pinned,
                  String throttle, ThrottleControl.State throttleState, boolean stopFilePresent, List<Catalog.ActiveRunner> runners,
                  List<Catalog.StateCount> matrix, List<Catalog.HeldShard> failed, List<Catalog.HeldShard> waiting,
                  int failedShards, int waitingShards, int driftedShards, int refusedShards) implements Report {
        long pendingTasks() {
            return versions.stream().mapToLong(v -> v.pending + v.running).sum();
        }

        @Override
        public String text() {
            StringBuilder sb = new StringBuilder(String.format("%-8s %-20s %-6s %8s %8s %8s %8s %8s %8s%n", "VERSION",
                    "TABLE", "TYPE", "DONE", "RUNNING", "WAITING", "PENDING", "FAILED", "BLOCKED"));
            for (VersionStatus v : versions) {
                sb.append(String.format("%-8d %-20s %-6s %8d %8d %8d %8d %8d %8d%n", v.version, v.table, v.type, v.done,
                        v.running, v.waiting, v.pending, v.failed, v.blocked));
            }
            for (VersionStatus v : versions) {
                if (!v.online.isEmpty()) {
                    sb.append("version ").append(v.version).append(" online: ").append(String.join(", ",
                            v.online.stream().map(OnlineCatalog.PhaseSummary::describe).toList())).append('\n');
                }
            }
            sb.append(shards).append(" shards; throttle: ").append(throttle);
            sb.append("; runners: ").append(runners.isEmpty() ? "none" : String.join(", ", runners.stream()
                    .map(r -> r.runner() + " (" + r.tasks() + " of " + r.workers() + " workers busy)").toList()));
            if (stopFilePresent) {
                sb.append("; stop file present: runners take no new task");
            }
            if (pinned > 0) {
                sb.append(String.format("%n%d shard(s) pinned by `down` (or `up --to`): they stay below the latest"
                        + " version until `up`", pinned));
            }
            sb.append(String.format("%nshards by version and state: ")).append(String.join("; ", matrix.stream()
                    .map(m -> "version " + m.version() + " " + m.state() + " " + m.shards()).toList()));
            list(sb, "failed (all of them, drifted and refused ones included, with how the last run ended; `log` has"
                    + " the error, `retry` runs it again)", failed, failedShards, Catalog.HeldShard::lastRunState, "failed");
            list(sb, "drifted (the table differs from the expected result; `log` has the diff)", drifted, driftedShards,
                    s -> null, "failed");
            list(sb, "refused (by the guard: the change would block writes on a big table; or an online change pt-osc"
                    + " cannot run safely on the shard; `log` says why)", refused, refusedShards, s -> null, "failed");
            list(sb, "waiting at a gate (`approve V` or `cutover V` opens it)", waiting, waitingShards,
                    Catalog.HeldShard::phase, "waiting");
            for (StalledTask s : stalled) {
                sb.append(String.format("%nstalled: %s at version %d, task %s, last heartbeat %s",
                        ShardName.text(s.shardId, s.schema, s.server), s.fromVersion, s.task, s.lastHeartbeat));
            }
            return sb.toString();
        }
    }

    /**
     * One list of shards, as every list of `status` has it: "shard N (schema@server) at version V", with
     * {@code detail} in parentheses when it gives one, for at most {@link #LISTED} of the {@code total} shards, then
     * how many more there are and which `shard list --state` lists them all.
     */
    private static void list(StringBuilder sb, String what, List<Catalog.HeldShard> shards, int total,
                             Function<Catalog.HeldShard, String> detail, String state) {
        if (shards.isEmpty()) {
            return;
        }
        sb.append(String.format("%n%s: ", what)).append(String.join(", ", shards.stream().map(s -> {
            String d = detail.apply(s);
            return s.name().text() + (s.version() == null ? "" : " at version " + s.version())
                    + (d == null ? "" : " (" + Printable.escape(d) + ")");
        }).toList()));
        if (total > shards.size()) {
            sb.append(" and ").append(total - shards.size()).append(" more (see `shard list --state ").append(state)
                    .append("`)");
        }
    }

    @Override
    public Integer call() {
        return context.print(build(context.catalog(), context.config()), json);
    }

    static Result build(Catalog catalog, Config config) {
        ThrottleControl.State throttle = ThrottleControl.read(config.throttlingFile());
        List<Catalog.StateCount> counts = catalog.stateCounts();
        int total = counts.stream().mapToInt(Catalog.StateCount::shards).sum();
        List<VersionStatus> out = new ArrayList<>();
        int previous = 0;
        for (Version v : catalog.versions()) {
            int done = 0;
            int running = 0;
            int waiting = 0;
            int failed = 0;
            int blocked = 0;
            for (Catalog.StateCount c : counts) {
                if (c.version() >= v.number()) {
                    done += c.shards();
                } else if (c.version() == previous && c.state().equals("running")) {
                    running += c.shards();
                } else if (c.version() == previous && c.state().equals("waiting")) {
                    waiting += c.shards();
                } else if (c.version() == previous && c.state().equals("failed")) {
                    failed += c.shards();
                } else if (c.state().equals("failed")) {
                    blocked += c.shards();
                }
            }
            out.add(new VersionStatus(v.number(), v.tableName(), v.type(), done, running, waiting,
                    total - done - running - waiting - failed - blocked, failed, blocked,
                    v.isOnline() ? catalog.online().phases(v.number()) : List.of()));
            previous = v.number();
        }
        List<StalledTask> stalled = new ArrayList<>();
        for (Shard s : catalog.stalled(config.stallSeconds(), LISTED)) {
            stalled.add(new StalledTask(s.id(), s.schemaName(), s.serverKey(), s.version(), s.task(), s.lastTaskHb()));
        }
        int failedShards = counts.stream().filter(c -> c.state().equals("failed")).mapToInt(Catalog.StateCount::shards).sum();
        int waitingShards = counts.stream().filter(c -> c.state().equals("waiting")).mapToInt(Catalog.StateCount::shards).sum();
        // The lists' queries join the run log: a fleet with no failed (or no waiting) shard is spared them.
        boolean anyFailed = failedShards > 0;
        Map<String, Integer> failedBy = anyFailed ? catalog.failedCountsByRunState() : Map.of();
        return new Result(total, out, stalled, anyFailed ? catalog.failedBy(Run.DRIFTED, LISTED) : List.of(),
                anyFailed ? catalog.failedBy(Run.REFUSED, LISTED) : List.of(), catalog.pinnedShards(),
                throttle.description(), throttle, ThrottleControl.stopFilePresent(config.stopFile()),
                catalog.activeRunners(config.stallSeconds()), counts, anyFailed ? catalog.failedBy(null, LISTED) : List.of(),
                waitingShards > 0 ? catalog.waiting(LISTED) : List.of(), failedShards, waitingShards,
                failedBy.getOrDefault(Run.DRIFTED, 0), failedBy.getOrDefault(Run.REFUSED, 0));
    }
}
