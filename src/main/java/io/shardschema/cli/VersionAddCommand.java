package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.change.ChangeStatement;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
    @Option(names = "--type", defaultValue = "sql", description = "How to apply it: sql (pt-osc comes with the online issue).")
    String type;
    @Option(names = "--validate-query", description = "A query run on the shard after the change; its first column"
            + " of the first row must equal --expect, or the run fails.")
    String validateQuery;
    @Option(names = "--expect", description = "The answer --validate-query must give.")
    String expect;

    static final class Source {
        @Option(names = "--command", description = "The command, inline.")
        String command;
        @Option(names = "--file", description = "Read the command from this file.")
        Path file;
    }

    VersionAddCommand(Context context) {
        this.context = context;
    }

    record Result(int version, String table, String type, String statement) implements Report {
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
        if (!type.equals("sql")) {
            throw ShardSchemaException.usage("--type " + type + " is not supported by this build; use --type sql");
        }
        if ((validateQuery == null) != (expect == null)) {
            throw ShardSchemaException.usage("--validate-query and --expect go together");
        }
        context.catalog().checkSyntax(ChangeStatement.sql(table, command));
        int version = context.catalog().addVersion(table, command, type, validateQuery, expect);
        return context.print(new Result(version, table, type, ChangeStatement.sql(table, command)), json);
    }
}
