package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.change.PendingDrops;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

@Command(name = "purge", mixinStandardHelpOptions = true, description = "Drop the tables that have waited in the"
        + " pending-drops database longer than --older-than (default: trashRetentionDays) by their server's clock, one"
        + " at a time. Tables shardschema did not put there are left alone.")
final class TrashPurgeCommand implements Callable<Integer> {
    private static final Pattern DURATION = Pattern.compile("(\\d+)([smhd])");
    /** As trashRetentionDays' bound: a hundred years. */
    private static final Duration MAX_AGE = Duration.ofDays(36500);
    private final Context context;
    @Mixin
    JsonOption json;
    @Option(names = "--older-than", paramLabel = "DURATION", description = "e.g. 7d, 12h, 30m, 0s.")
    String olderThan;

    TrashPurgeCommand(Context context) {
        this.context = context;
    }

    record Result(String database, Duration olderThan, List<PendingDrops.Entry> dropped) implements Report {
        @Override
        public String text() {
            StringBuilder sb = new StringBuilder();
            for (PendingDrops.Entry t : dropped) {
                sb.append(String.format("dropped %s %s.%s (moved %s)%n", t.server(), database, t.table(), t.movedAt()));
            }
            return sb.append(dropped.size()).append(" tables dropped (older than ").append(olderThan).append(')').toString();
        }
    }

    static Duration parse(String text) {
        Matcher m = DURATION.matcher(text.strip());
        if (!m.matches()) {
            throw ShardSchemaException.usage("--older-than '" + text + "' is not a duration like 7d, 12h, 30m or 0s");
        }
        Duration unit = switch (m.group(2)) {
            case "s" -> Duration.ofSeconds(1);
            case "m" -> Duration.ofMinutes(1);
            case "h" -> Duration.ofHours(1);
            default -> Duration.ofDays(1);
        };
        // Compared as a BigInteger: the count may have any number of digits.
        BigInteger count = new BigInteger(m.group(1));
        if (count.compareTo(BigInteger.valueOf(MAX_AGE.dividedBy(unit))) > 0) {
            throw ShardSchemaException.usage("--older-than '" + text + "' is more than " + MAX_AGE.toDays() + "d");
        }
        return unit.multipliedBy(count.longValue());
    }

    @Override
    public Integer call() {
        Duration age = olderThan == null ? Duration.ofDays(context.config().trashRetentionDays()) : parse(olderThan);
        String db = context.config().pendingDropsDb();
        List<PendingDrops.Entry> dropped = new ArrayList<>();
        TrashCommand.eachServer(context, (server, c) -> {
            for (PendingDrops.Entry t : PendingDrops.list(c, db, server)) {
                if (t.ageSeconds() != null && t.ageSeconds() >= age.toSeconds()) {
                    PendingDrops.drop(c, db, t.table());
                    dropped.add(t);
                }
            }
        });
        return context.print(new Result(db, age, dropped), json);
    }
}
