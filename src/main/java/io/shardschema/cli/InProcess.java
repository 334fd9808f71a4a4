package io.shardschema.cli;

import io.shardschema.catalog.Catalog;
import io.shardschema.config.Config;
import io.shardschema.server.Commands;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Runs commands inside this process on a config and catalog that outlive them, with their output captured: how
 * the HTTP API does what the command line does, through the same code.
 */
final class InProcess implements Commands {
    private final Config config;
    private final Catalog catalog;

    InProcess(Config config, Catalog catalog) {
        this.config = config;
        this.catalog = catalog;
    }

    @Override
    public Outcome run(List<String> args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
             Context context = new Context(o, e, config, catalog)) {
            int exit = Main.execute(args.toArray(String[]::new), context, true);
            Context.Failure failure = context.failure();
            // A failure the command did not record (none known today) still answers with what it printed.
            String error = failure != null ? failure.message()
                    : exit != 0 && out.size() == 0 ? err.toString(StandardCharsets.UTF_8).strip() : null;
            return new Outcome(exit, out.toString(StandardCharsets.UTF_8), error, failure != null && failure.notFound(),
                    failure != null && failure.internal());
        }
    }
}
