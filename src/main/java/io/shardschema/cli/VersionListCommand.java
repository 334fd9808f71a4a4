package io.shardschema.cli;

import io.shardschema.catalog.Version;
import io.shardschema.change.ChangeStatement;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "list", mixinStandardHelpOptions = true, description = "List the registered versions.")
final class VersionListCommand implements Callable<Integer> {
    private final Context context;
    @Mixin
    JsonOption json;

    VersionListCommand(Context context) {
        this.context = context;
    }

    record Result(List<Version> versions) implements Report {
        @Override
        public String text() {
            StringBuilder sb = new StringBuilder(String.format("%-8s %-6s %-20s %s%n", "VERSION", "TYPE", "TABLE", "STATEMENT"));
            for (Version v : versions) {
                sb.append(String.format("%-8d %-6s %-20s %s%n", v.number(), v.type(), v.tableName(),
                        ChangeStatement.sql(v.tableName(), v.command())));
            }
            sb.append(versions.size()).append(" versions");
            return sb.toString();
        }
    }

    @Override
    public Integer call() {
        return context.print(new Result(context.catalog().versions()), json);
    }
}
