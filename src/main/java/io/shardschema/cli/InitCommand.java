package io.shardschema.cli;

import io.shardschema.catalog.CatalogLayout;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

@Command(name = "init", mixinStandardHelpOptions = true, description = "Create the catalog, or upgrade an existing one in place (keeps every row).")
final class InitCommand implements Callable<Integer> {
    private final Context context;
    @Mixin
    JsonOption json;

    InitCommand(Context context) {
        this.context = context;
    }

    record Result(String catalog, int fromLayout, int toLayout, java.util.List<String> steps) implements Report {
        @Override
        public String text() {
            if (steps.isEmpty()) {
                return "catalog " + catalog + " is at layout " + toLayout + "; nothing to do";
            }
            return "catalog " + catalog + " upgraded from layout " + fromLayout + " to " + toLayout + ":\n  "
                    + String.join("\n  ", steps);
        }
    }

    @Override
    public Integer call() {
        CatalogLayout.InitReport r = CatalogLayout.initialize(context.catalogDsn(), context.config().stallSeconds());
        return context.print(new Result(r.catalog(), r.fromLayout(), r.toLayout(), r.steps()), json);
    }
}
