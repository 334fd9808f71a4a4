package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Version;
import io.shardschema.change.ChangeStatement;
import io.shardschema.change.PtOscAlter;
import io.shardschema.change.PtOscOptions;
import io.shardschema.schema.DerivedRollback;
import io.shardschema.schema.Preflight;
import io.shardschema.schema.SchemaSnapshot;
import io.shardschema.schema.TableKeys;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "add", mixinStandardHelpOptions = true, description = "Register the next version: COMMAND on TABLE. The command is the body of"
        + " ALTER TABLE TABLE ... (e.g. ADD COLUMN c INT), or a whole CREATE/DROP/RENAME TABLE statement."
        + " Prints the new version number.")
final class VersionAddCommand implements Callable<Integer> {
    private final Context context;
    @Mixin
    JsonOption json;
    @Option(names = "--table", required = true, description = "The table the version changes.")
    String table;
    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;
    @Option(names = "--type", defaultValue = "sql", description = "How to apply it: sql (directly) or pt-osc (online,"
            + " through pt-online-schema-change, with the approval and cut-over gates).")
    String type;
    @Option(names = "--option", description = "pt-osc only: a throttling or chunking option as name=value (max-lag,"
            + " max-load, critical-load, chunk-size, chunk-time, chunk-size-limit, chunk-index, sleep, check-interval,"
            + " recursion-method); repeatable.")
    java.util.List<String> options = new java.util.ArrayList<>();
    @Option(names = "--auto-approve", description = "pt-osc only: copy without waiting for `approve`.")
    boolean autoApprove;
    @Option(names = "--auto-cutover", description = "pt-osc only: swap as soon as the copy is done, without `cutover`.")
    boolean autoCutover;
    @Option(names = "--final-insert", description = "pt-osc only: a statement run on the shard right after the"
            + " cut-over (make it idempotent: a cut-over interrupted at that moment runs it again).")
    String finalInsert;
    @Option(names = "--validate-query", description = "A query run on the shard after the change; its first column"
            + " of the first row must equal --expect, or the run fails.")
    String validateQuery;
    @Option(names = "--expect", description = "The answer --validate-query must give.")
    String expect;
    @Option(names = "--rollback", paramLabel = "CMD", description = "What undoes the change, for `down`: the body of"
            + " ALTER TABLE TABLE ... or a whole statement. Checked by the preflight: it must bring the tables back"
            + " exactly. Without it, an added column or index or a created table gets a derived rollback.")
    String rollback;
    @Option(names = "--force", description = "Skip the guard that refuses a change that blocks writes on a big table"
            + " (settings guardTableRows and guardCopyRows).")
    boolean force;
    @Option(names = "--shard", paramLabel = "ID", description = "The shard whose server hosts the preflight (default:"
            + " the first shard at the latest version, else the first shard).")
    Long preflightShard;
    @Option(names = "--no-preflight", description = "Register without a preflight (for instance when no shard is"
            + " reachable yet): the version then has no expected schema, so no verify-after-apply, no derived"
            + " rollback and no guard.")
    boolean noPreflight;

    static final class Source {
        @Option(names = "--command", description = "The command, inline.")
        String command;
        @Option(names = "--file", description = "Read the command from this file.")
        Path file;
    }

    VersionAddCommand(Context context) {
        this.context = context;
    }

    record Result(int version, String table, String type, String statement, String algorithm,
                  String expectedFingerprint, String rollback, boolean rollbackDerived, List<String> notes)
            implements Report {
        @Override
        public String text() {
            return String.valueOf(version);
        }
    }

    @Override
    public Integer call() {
        ChangeStatement.checkTableName(table);
        String raw = source.command;
        if (source.file != null) {
            try {
                raw = Files.readString(source.file);
            } catch (IOException e) {
                throw ShardSchemaException.usage("cannot read --file " + source.file + ": " + e.getMessage());
            }
        }
        String command = ChangeStatement.normaliseCommand(table, raw);
        if (!type.equals(Version.SQL) && !type.equals(Version.PT_OSC)) {
            throw ShardSchemaException.usage("--type " + type + " is unknown; use sql or pt-osc");
        }
        boolean online = type.equals(Version.PT_OSC);
        if (!online && (!options.isEmpty() || autoApprove || autoCutover || finalInsert != null)) {
            throw ShardSchemaException.usage("--option, --auto-approve, --auto-cutover and --final-insert need --type pt-osc");
        }
        Map<String, String> ptOscOptions = PtOscOptions.parse(options);
        boolean throughPtOsc = online && !ChangeStatement.isWholeStatement(command);
        if (online) {
            ChangeStatement.checkOnlineWholeStatement(table, command);
        }
        if (throughPtOsc) {
            PtOscAlter.read(table, command);
        }
        if (finalInsert != null && finalInsert.isBlank()) {
            throw ShardSchemaException.usage("--final-insert is empty");
        }
        if ((validateQuery == null) != (expect == null)) {
            throw ShardSchemaException.usage("--validate-query and --expect go together");
        }
        context.catalog().checkSyntax(ChangeStatement.sql(table, command));
        if (finalInsert != null) {
            context.catalog().checkSyntax(finalInsert);
        }
        String givenRollback = rollback == null ? null : ChangeStatement.normaliseCommand(table, rollback);
        if (givenRollback != null) {
            context.catalog().checkSyntax(ChangeStatement.sql(table, givenRollback));
        }
        List<String> notes = new ArrayList<>();
        Version.Expected expected = Version.Expected.NONE;
        Integer chainedFrom = null;
        String storedRollback = givenRollback;
        boolean derived = false;
        if (noPreflight) {
            notes.add("no preflight: no expected schema, so no verify-after-apply and no guard for this version");
        } else {
            Version previous = context.catalog().versions().stream().reduce((a, b) -> b).orElse(null);
            chainedFrom = previous == null ? 0 : previous.number();
            Preflight.RollbackChoice choice = givenRollback != null
                    ? (before, after) -> ChangeStatement.sql(table, givenRollback)
                    : (before, after) -> DerivedRollback.of(table, before.table(table), after.table(table))
                    .map(r -> ChangeStatement.sql(table, r)).orElse(null);
            VersionPreflight.Outcome o = VersionPreflight.run(context, table, command, previous, preflightShard, choice);
            Preflight.Report r = o.report();
            if (r.error() != null) {
                throw new ShardSchemaException(ShardSchemaException.REFUSED, "the change fails its preflight on shard "
                        + o.shard().id() + " (starting from " + o.startingPoint() + "): " + r.error()
                        + "\nnothing was written");
            }
            if (givenRollback != null && !r.rollbackRestores()) {
                throw new ShardSchemaException(ShardSchemaException.REFUSED, "the --rollback does not bring the tables"
                        + " back: " + (r.rollbackError() != null ? r.rollbackError() : "\n" + r.rollbackDiff())
                        + "\nnothing was written");
            }
            if (givenRollback == null && r.rollback() != null) {
                if (r.rollbackRestores()) {
                    storedRollback = DerivedRollback.of(table, r.before().table(table), r.after().table(table)).orElseThrow();
                    derived = true;
                } else {
                    notes.add("the derived rollback would not restore the tables exactly; give --rollback for `down`");
                }
            }
            if (storedRollback == null) {
                notes.add("no rollback: `down` cannot pass this version until one is given");
            }
            if (throughPtOsc) {
                PtOscAlter.checkForeignKeys(table, r.before().tables(), r.after().table(table));
                if (!TableKeys.added(r.before().table(table), r.after().table(table)).isEmpty()) {
                    notes.add("it adds a unique key: each shard's rows are checked for duplicates before its copy,"
                            + " and a shard with duplicates is refused, untouched");
                }
            }
            if (r.changesNothing()) {
                notes.add("the change changes nothing in the schema");
            }
            if (!online && r.algorithm().blocksWrites()) {
                notes.add("it runs " + VersionPreflight.describe(r.algorithm()) + "; on tables above the guard's"
                        + " thresholds it is refused" + (force ? ", but --force skips that" : " unless added with --force"));
            }
            expected = new Version.Expected(r.after().tables(), SchemaSnapshot.fingerprint(r.after().table(table)),
                    r.before().table(table), r.algorithm().name());
        }
        int version = context.catalog().addVersion(new Version(0, table, command, type, validateQuery, expect,
                new Version.Online(ptOscOptions, autoApprove, autoCutover, finalInsert), expected, storedRollback, force),
                chainedFrom);
        notes.forEach(context::warn);
        return context.print(new Result(version, table, type, ChangeStatement.sql(table, command),
                expected.algorithm(), expected.tableFingerprint(), storedRollback, derived, notes), json);
    }
}
