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
    @Option(names = "--type", defaultValue = "sql", description = "How to apply it: sql (directly), pt-osc (online,"
            + " through pt-online-schema-change) or online (the built-in binlog engine); both online types pass the"
            + " approval and cut-over gates.")
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

    /**
     * What `version add` is asked, as `apply` declares it too: {@code command} already read from its file;
     * {@code options} as name=value.
     */
    record Request(String table, String command, String type, List<String> options, boolean autoApprove,
                   boolean autoCutover, String finalInsert, String validateQuery, String expect, String rollback,
                   boolean force, Long preflightShard, boolean noPreflight) {
    }

    /** A version checked and preflighted, not written yet: what {@link #register} writes and reports. */
    record Draft(Version version, Integer chainedFrom, boolean rollbackDerived, List<String> notes) {
    }

    @Override
    public Integer call() {
        String raw = source.command;
        if (source.file != null) {
            try {
                raw = Files.readString(source.file);
            } catch (IOException e) {
                throw ShardSchemaException.usage("cannot read --file " + source.file + ": " + e.getMessage());
            }
        }
        Request request = new Request(table, raw, type, options, autoApprove, autoCutover, finalInsert, validateQuery,
                expect, rollback, force, preflightShard, noPreflight);
        Version previous = context.catalog().versions().stream().reduce((a, b) -> b).orElse(null);
        return context.print(register(context, prepare(context, request, previous)), json);
    }

    /**
     * The version as requested, checked (names, type, options, the server's parser) and normalised, without
     * preflight: number 0, no expected schema, the rollback as given.
     */
    static Version declared(Context context, Request r) {
        return declared(context, r, true);
    }

    /** As {@link #declared(Context, Request)}; {@code parse}: also through the catalog server's parser. */
    static Version declared(Context context, Request r, boolean parse) {
        ChangeStatement.checkTableName(r.table());
        String command = ChangeStatement.normaliseCommand(r.table(), r.command());
        if (!List.of(Version.SQL, Version.PT_OSC, Version.ONLINE).contains(r.type())) {
            throw ShardSchemaException.usage("--type " + r.type() + " is unknown; use sql, pt-osc or online");
        }
        boolean online = !r.type().equals(Version.SQL);
        if (!online && (!r.options().isEmpty() || r.autoApprove() || r.autoCutover() || r.finalInsert() != null)) {
            throw ShardSchemaException.usage("--option, --auto-approve, --auto-cutover and --final-insert need --type"
                    + " pt-osc or online");
        }
        if (r.type().equals(Version.ONLINE) && !r.options().isEmpty()) {
            throw ShardSchemaException.usage("--option passes options to pt-osc; the online engine takes none");
        }
        Map<String, String> ptOscOptions = PtOscOptions.parse(r.options());
        if (online) {
            ChangeStatement.checkOnlineWholeStatement(r.table(), command);
        }
        if (online && !ChangeStatement.isWholeStatement(command)) {
            PtOscAlter.read(r.table(), command);
        }
        if (r.finalInsert() != null && r.finalInsert().isBlank()) {
            throw ShardSchemaException.usage("--final-insert is empty");
        }
        if ((r.validateQuery() == null) != (r.expect() == null)) {
            throw ShardSchemaException.usage("--validate-query and --expect go together");
        }
        String givenRollback = r.rollback() == null ? null : ChangeStatement.normaliseCommand(r.table(), r.rollback());
        if (parse) {
            context.catalog().checkSyntax(ChangeStatement.sql(r.table(), command));
            if (r.finalInsert() != null) {
                context.catalog().checkSyntax(r.finalInsert());
            }
            if (givenRollback != null) {
                context.catalog().checkSyntax(ChangeStatement.sql(r.table(), givenRollback));
            }
        }
        return new Version(0, r.table(), command, r.type(), r.validateQuery(), r.expect(),
                new Version.Online(ptOscOptions, r.autoApprove(), r.autoCutover(), r.finalInsert()),
                Version.Expected.NONE, givenRollback, r.force());
    }

    /**
     * Checks and preflights the request as the version after {@code previous} (null: the first), writing nothing;
     * a failing preflight or a rollback that does not restore the tables is refused.
     */
    static Draft prepare(Context context, Request r, Version previous) {
        return prepare(context, r, previous, null);
    }

    /** As {@link #prepare(Context, Request, Version)}, the preflight on {@code host}'s server (null: as requested). */
    static Draft prepare(Context context, Request r, Version previous, VersionPreflight.Host host) {
        Version v = declared(context, r);
        String table = v.tableName();
        String command = v.command();
        boolean copied = v.isOnline() && !ChangeStatement.isWholeStatement(command);
        String givenRollback = v.rollback();
        List<String> notes = new ArrayList<>();
        if (r.noPreflight()) {
            notes.add("no preflight: no expected schema, so no verify-after-apply and no guard for this version");
            return new Draft(v, null, false, notes);
        }
        Preflight.RollbackChoice choice = givenRollback != null
                ? (before, after) -> ChangeStatement.sql(table, givenRollback)
                : (before, after) -> DerivedRollback.of(table, before.table(table), after.table(table))
                .map(rb -> ChangeStatement.sql(table, rb)).orElse(null);
        VersionPreflight.Outcome o = VersionPreflight.run(context, table, command, previous,
                host != null ? host : VersionPreflight.host(context, r.preflightShard(), previous), choice);
        Preflight.Report report = o.report();
        if (report.error() != null) {
            throw new ShardSchemaException(ShardSchemaException.REFUSED, "the change fails its preflight on "
                    + o.host().label() + " (starting from " + o.startingPoint() + "): " + report.error()
                    + "\nnothing was written");
        }
        if (givenRollback != null && !report.rollbackRestores()) {
            throw new ShardSchemaException(ShardSchemaException.REFUSED, "the --rollback does not bring the tables"
                    + " back: " + (report.rollbackError() != null ? report.rollbackError() : "\n" + report.rollbackDiff())
                    + "\nnothing was written");
        }
        String storedRollback = givenRollback;
        boolean derived = false;
        if (givenRollback == null && report.rollback() != null) {
            if (report.rollbackRestores()) {
                storedRollback = DerivedRollback.of(table, report.before().table(table), report.after().table(table))
                        .orElseThrow();
                derived = true;
            } else {
                notes.add("the derived rollback would not restore the tables exactly; give --rollback for `down`");
            }
        }
        if (storedRollback == null) {
            notes.add("no rollback: `down` cannot pass this version until one is given");
        }
        if (copied) {
            PtOscAlter.checkForeignKeys(v.type(), table, report.before().tables(), report.after().table(table));
            if (!TableKeys.added(report.before().table(table), report.after().table(table)).isEmpty()) {
                notes.add("it adds a unique key: each shard's rows are checked for duplicates before its copy,"
                        + " and a shard with duplicates is refused, untouched");
            }
        }
        if (report.changesNothing()) {
            notes.add("the change changes nothing in the schema");
        }
        if (!v.isOnline() && report.algorithm().blocksWrites()) {
            notes.add("it runs " + VersionPreflight.describe(report.algorithm()) + "; on tables above the guard's"
                    + " thresholds it is refused" + (r.force() ? ", but --force skips that" : " unless added with --force"));
        }
        Version.Expected expected = new Version.Expected(report.after().tables(),
                SchemaSnapshot.fingerprint(report.after().table(table)), report.before().table(table),
                report.algorithm().name());
        Version draft = new Version(0, table, command, v.type(), v.validationQuery(), v.validationExpected(),
                v.online(), expected, storedRollback, v.force());
        return new Draft(draft, previous == null ? 0 : previous.number(), derived, notes);
    }

    /** Writes a prepared version as the next one (refused if another was added since its preflight) and warns its notes. */
    static Result register(Context context, Draft d) {
        int number = context.catalog().addVersion(d.version(), d.chainedFrom());
        d.notes().forEach(context::warn);
        Version v = d.version();
        return new Result(number, v.tableName(), v.type(), ChangeStatement.sql(v.tableName(), v.command()),
                v.expected().algorithm(), v.expected().tableFingerprint(), v.rollback(), d.rollbackDerived(), d.notes());
    }
}
