package io.shardschema.cli;

import io.shardschema.change.PendingDrops;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "list", mixinStandardHelpOptions = true, description = "Tables waiting in the pending-drops database"
        + " of every shard server, with when they were moved there and their size.")
final class TrashListCommand implements Callable<Integer> {
    private final Context context;
    @Mixin
    JsonOption json;

    TrashListCommand(Context context) {
        this.context = context;
    }

    record Result(String database, List<PendingDrops.Entry> tables) implements Report {
        @Override
        public String text() {
            StringBuilder sb = new StringBuilder();
            for (PendingDrops.Entry t : tables) {
                sb.append(String.format("%s %s.%s moved %s, ~%d rows, %d MB%n", t.server(), database, t.table(),
                        t.movedAt() == null ? "(unknown: not put there by shardschema)"
                                : t.movedAt() + " (" + Duration.ofSeconds(t.ageSeconds()) + " ago by its server's clock)",
                        t.rows(), t.bytes() / (1024 * 1024)));
            }
            return sb.append(tables.size()).append(" tables in ").append(database).toString();
        }
    }

    @Override
    public Integer call() {
        String db = context.config().pendingDropsDb();
        List<PendingDrops.Entry> all = new ArrayList<>();
        TrashCommand.eachServer(context, (server, c) -> all.addAll(PendingDrops.list(c, db, server)));
        return context.print(new Result(db, all), json);
    }
}
