package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Version;
import io.shardschema.change.ChangeStatement;
import io.shardschema.schema.Preflight;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "preflight", mixinStandardHelpOptions = true, description = "Try a change on copies of a shard's table"
        + " definitions in a scratch schema on the shard's server: before, after, the diff, the server's error, and"
        + " whether it runs INSTANT, INPLACE without a lock, or copies the table. The shard itself is not touched."
        + " Exit 3 when the change fails.")
final class PreflightCommand implements Callable<Integer> {
    private final Context context;
    @Mixin
    JsonOption json;
    @ArgGroup(exclusive = true, multiplicity = "1")
    What what;
    @Option(names = "--shard", paramLabel = "ID", description = "The shard whose server hosts the scratch"
            + " schema (default: the lowest-numbered shard at the previous version, else the first shard). With"
            + " --version the tables are the expected schema after the previous version when the catalog has it,"
            + " else this shard's.")
    Long shard;

    static final class What {
        @Option(names = "--version", paramLabel = "V", description = "A registered version.")
        Integer version;
        @ArgGroup(exclusive = false)
        Adhoc adhoc;
    }

    static final class Adhoc {
        @Option(names = "--table", required = true, paramLabel = "T", description = "The table the command changes.")
        String table;
        @Option(names = "--command", required = true, paramLabel = "C", description = "As for `version add`.")
        String command;
    }

    PreflightCommand(Context context) {
        this.context = context;
    }

    record Result(long shard, String schema, String startingPoint, String statement, boolean ok, String error, boolean changesNothing,
                  Preflight.Algorithm algorithm, String diff, String before, String after,
                  List<String> removedLeftovers, String noSandbox) implements Report {
        @Override
        public String text() {
            StringBuilder sb = new StringBuilder(String.format("preflight on shard %d (%s), starting from %s: %s%n",
                    shard, schema, startingPoint, statement));
            if (!ok) {
                sb.append("FAILS: ").append(error);
            } else if (changesNothing) {
                sb.append("changes nothing (the schema is the same after it)");
            } else {
                sb.append("runs ").append(VersionPreflight.describe(algorithm)).append('\n').append(diff.stripTrailing());
            }
            if (noSandbox != null) {
                sb.append("\nran in this account's own session (").append(noSandbox).append(')');
            }
            if (!removedLeftovers.isEmpty()) {
                sb.append("\nremoved scratch schemas left by killed preflights: ").append(removedLeftovers);
            }
            return sb.toString();
        }
    }

    @Override
    public Integer call() {
        String table;
        String command;
        Version previous = null;
        if (what.version != null) {
            Version v = context.catalog().requireVersion(what.version);
            table = v.tableName();
            command = v.command();
            previous = context.catalog().versions().stream().filter(x -> x.number() < v.number())
                    .reduce((a, b) -> b).orElse(null);
        } else {
            ChangeStatement.checkTableName(what.adhoc.table);
            table = what.adhoc.table;
            command = ChangeStatement.normaliseCommand(table, what.adhoc.command);
        }
        VersionPreflight.Outcome o = VersionPreflight.run(context, table, command, previous,
                VersionPreflight.host(context, shard, previous),
                Preflight.RollbackChoice.NONE);
        Preflight.Report r = o.report();
        context.print(new Result(o.host().id(), o.host().schema(), o.startingPoint(),
                ChangeStatement.sql(table, command), r.error() == null, r.error(), r.changesNothing(), r.algorithm(),
                r.diff(), r.before().text(), r.after().text(), r.removedLeftovers(), r.noSandbox()), json);
        return r.error() == null ? 0 : ShardSchemaException.SOME_FAILED;
    }
}
