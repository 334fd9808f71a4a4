package io.shardschema.cli;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import io.shardschema.Printable;
import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Catalog;
import io.shardschema.catalog.Shard;
import io.shardschema.config.Dsn;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

@Command(name = "list", mixinStandardHelpOptions = true, description = "List the registered shards with their version,"
        + " state, latest run and replicas; lowest id first, optionally one state and one page.")
final class ShardListCommand implements Callable<Integer> {
    private static final Set<String> STATES = Set.of("ready", "running", "waiting", "failed");
    private final Context context;
    @Mixin
    JsonOption json;
    @Option(names = "--state", description = "Only shards in this state: ready, running, waiting or failed.")
    String state;
    @Option(names = "--offset", defaultValue = "0", description = "Skip this many shards (default 0).")
    int offset;
    @Option(names = "--limit", description = "At most this many shards (default: all).")
    Integer limit;

    ShardListCommand(Context context) {
        this.context = context;
    }

    /** A shard with its latest run's state and replica DSNs; in JSON the shard's fields stay at the top level. */
    record Listed(@JsonUnwrapped Shard shard, String lastRunState, List<String> replicas) {
    }

    /**
     * {@code total}: the shards that match, of which this page lists {@code shards} from {@code offset}. The text
     * escapes names and DSNs ({@link Printable#escape}); JSON carries them as they are.
     */
    record Result(int total, int offset, List<Listed> shards) implements Report {
        @Override
        public String text() {
            StringBuilder sb = new StringBuilder(String.format("%-8s %-30s %-8s %-8s %-16s %s%n", "SHARD", "SCHEMA",
                    "VERSION", "STATE", "LAST RUN", "DSN"));
            for (Listed l : shards) {
                Shard s = l.shard();
                sb.append(String.format("%-8d %-30s %-8d %-8s %-16s %s%n", s.id(), Printable.escape(s.schemaName()),
                        s.version(), s.state(), l.lastRunState() == null ? "-" : l.lastRunState(),
                        Printable.escape(s.dsn())));
                l.replicas().forEach(r -> sb.append(String.format("%-8s replica %s%n", "", Printable.escape(r))));
            }
            sb.append(shards.size() == total ? total + " shards" : shards.size() + " of " + total + " shards, from "
                    + offset);
            return sb.toString();
        }
    }

    @Override
    public Integer call() {
        if (state != null && !STATES.contains(state)) {
            throw ShardSchemaException.usage("--state " + state + " is unknown; use ready, running, waiting or failed");
        }
        if (offset < 0 || limit != null && limit < 0) {
            throw ShardSchemaException.usage("--offset and --limit must be at least 0");
        }
        Catalog.ShardPage page = context.catalog().shardPage(state, offset, limit == null ? Integer.MAX_VALUE : limit);
        Map<Long, List<String>> replicas = context.catalog().replicas();
        List<Listed> shards = page.shards().stream()
                .map(s -> new Listed(new Shard(s.id(), s.schemaName(), Dsn.mask(s.dsn()), s.version(),
                        s.state(), s.task(), s.lastTaskHb(), s.attempts(), s.serverKey()),
                        page.lastRunStates().get(s.id()),
                        replicas.getOrDefault(s.id(), List.of()).stream().map(Dsn::mask).toList()))
                .toList();
        return context.print(new Result(page.total(), offset, shards), json);
    }
}
