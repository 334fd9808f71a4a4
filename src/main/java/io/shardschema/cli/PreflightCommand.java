package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Shard;
import io.shardschema.catalog.Version;
import io.shardschema.change.ChangeStatement;
import io.shardschema.config.DataSources;
import io.shardschema.runner.ShardConnections;
import io.shardschema.schema.Preflight;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "preflight", mixinStandardHelpOptions = true, description = "Try a change on copies of a shard's table"
        + " definitions in a scratch schema on the shard's server: before, after, the diff, the server's error, and"
        + " whether it runs INSTANT, INPLACE without a lock, or copies the table. The shard itself is not touched."
        + " Exit 3 when the change fails.")
final class PreflightCommand implements Callable<Integer> {
    private static final java.util.regex.Pattern QUALIFIED_NAME =
            java.util.regex.Pattern.compile("[`A-Za-z0-9_$]\\s*\\.\\s*[`A-Za-z_$]");
    private final Context context;
    @Mixin
    JsonOption json;
    @ArgGroup(exclusive = true, multiplicity = "1")
    What what;
    @Option(names = "--shard", paramLabel = "ID", description = "The shard whose tables are copied (default: the"
            + " lowest-numbered shard just below the version, else the first shard).")
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

    record Result(long shard, String schema, String statement, boolean ok, String error, boolean changesNothing,
                  Preflight.Algorithm algorithm, String diff, String before, String after,
                  List<String> removedLeftovers) implements Report {
        @Override
        public String text() {
            StringBuilder sb = new StringBuilder(String.format("preflight on shard %d (%s): %s%n", shard, schema, statement));
            if (!ok) {
                sb.append("FAILS: ").append(error);
            } else if (changesNothing) {
                sb.append("changes nothing (the schema is the same after it)");
            } else {
                sb.append("runs ").append(algorithm == Preflight.Algorithm.INSTANT ? "INSTANT (metadata only)"
                        : algorithm == Preflight.Algorithm.INPLACE ? "INPLACE without a lock"
                        : algorithm == Preflight.Algorithm.COPY ? "as a table COPY (blocks writes; consider --type pt-osc)"
                        : "as written (not an ALTER)").append('\n').append(diff.stripTrailing());
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
        if (what.version != null) {
            Version v = context.catalog().versions().stream().filter(x -> x.number() == what.version).findFirst()
                    .orElseThrow(() -> ShardSchemaException.usage("unknown version " + what.version));
            table = v.tableName();
            command = v.command();
        } else {
            ChangeStatement.checkTableName(what.adhoc.table);
            table = what.adhoc.table;
            command = ChangeStatement.normaliseCommand(table, what.adhoc.command);
        }
        Shard target = shard != null ? context.catalog().requireShard(shard) : defaultShard();
        String statement = ChangeStatement.sql(table, command);
        boolean isAlter = !ChangeStatement.isWholeStatement(command);
        if (!isAlter && QUALIFIED_NAME.matcher(command).find()) {
            // It runs in the scratch schema only because that is the default database: a named schema escapes it.
            throw ShardSchemaException.usage("preflight runs whole statements only when they name no schema"
                    + " (schema.table); this one seems to: " + command);
        }
        Preflight.Report r;
        // A connection of its own, not a pooled one: the pool would discard it after the first algorithm the
        // server refuses (SQLSTATE 0A000 counts as fatal there).
        try (ShardConnections shards = new ShardConnections(context.config(), context.catalog().dsn(), 1);
             Connection c = DataSources.connect(shards.effective(target.dsn(), target.schemaName()))) {
            r = Preflight.run(c, c.getCatalog(), statement, isAlter);
        } catch (SQLException e) {
            throw ShardSchemaException.error("shard " + target.id() + " (" + target.schemaName() + "): "
                    + DataSources.rootMessage(e), e);
        }
        context.print(new Result(target.id(), target.schemaName(), statement, r.error() == null, r.error(),
                r.changesNothing(), r.algorithm(), r.diff(), r.before(), r.after(), r.removedLeftovers()), json);
        return r.error() == null ? 0 : ShardSchemaException.SOME_FAILED;
    }

    /** A shard that has not had the version yet: one right below it, else the first shard. */
    private Shard defaultShard() {
        List<Shard> all = context.catalog().shards();
        if (all.isEmpty()) {
            throw ShardSchemaException.usage("no shards are registered; give --shard after registering one");
        }
        Comparator<Shard> byId = Comparator.comparingLong(Shard::id);
        if (what.version != null) {
            int below = context.catalog().versions().stream().mapToInt(Version::number)
                    .filter(n -> n < what.version).max().orElse(0);
            return all.stream().filter(s -> s.version() == below).min(byId).orElse(all.stream().min(byId).orElseThrow());
        }
        return all.stream().min(byId).orElseThrow();
    }
}
