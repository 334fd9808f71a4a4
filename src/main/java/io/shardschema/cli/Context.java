package io.shardschema.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.shardschema.catalog.Catalog;
import io.shardschema.config.Config;
import io.shardschema.config.Dsn;
import io.shardschema.embedded.EmbeddedCatalog;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;

/**
 * What every command shares: output streams, the config in force, and the catalog, opened on first use (starting
 * the embedded MariaDB when there is no dbDSN) and closed when the command ends.
 */
public final class Context implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS).enable(SerializationFeature.INDENT_OUTPUT);

    final PrintStream out;
    final PrintStream err;
    private final Map<String, String> env;
    Path configFile;
    private Config config;
    private EmbeddedCatalog embedded;
    private Catalog catalog;
    /** False when the catalog is lent by a longer-lived owner (the HTTP server): close() leaves it open. */
    private final boolean ownsCatalog;
    /** Why the command failed, when it did: for callers that run commands in-process. */
    private Failure failure;

    /**
     * A command's failure: the message printed after "error: ", its exit code, whether it named nothing known, and
     * whether it was a bug of ours (an unexpected exception) rather than the user's input or a database's error.
     */
    record Failure(String message, int exitCode, boolean notFound, boolean internal) {
    }

    Context(PrintStream out, PrintStream err, Map<String, String> env) {
        this.out = out;
        this.err = err;
        this.env = env;
        this.ownsCatalog = true;
    }

    /** A context on a config and catalog that outlive it. */
    Context(PrintStream out, PrintStream err, Config config, Catalog catalog) {
        this.out = out;
        this.err = err;
        this.env = Map.of();
        this.config = config;
        this.catalog = catalog;
        this.ownsCatalog = false;
    }

    /** Replaces the worker count before the catalog opens, so its pool is sized for the workers that will use it. */
    void useWorkers(int workers) {
        config = config().with("workers", String.valueOf(workers));
    }

    Config config() {
        if (config == null) {
            config = Config.resolve(configFile, env);
        }
        return config;
    }

    /** The catalog's DSN; starts the embedded server when the config names none. */
    Dsn catalogDsn() {
        if (catalog != null) {
            return catalog.dsn();
        }
        Config cfg = config();
        if (cfg.catalogDsn().isPresent()) {
            return cfg.catalogDsn().get();
        }
        return embedded().dsn(EmbeddedCatalog.CATALOG_DB);
    }

    EmbeddedCatalog embedded() {
        if (embedded == null) {
            embedded = EmbeddedCatalog.open(config().embeddedDir());
        }
        return embedded;
    }

    Catalog catalog() {
        if (catalog == null) {
            catalog = Catalog.open(catalogDsn(), config().workers() + 4);
        }
        return catalog;
    }

    int print(Report report, JsonOption json) {
        if (json != null && json.json) {
            try {
                out.println(JSON.writeValueAsString(report));
            } catch (Exception e) {
                throw new IllegalStateException("cannot render JSON", e);
            }
        } else {
            out.println(report.text());
        }
        out.flush();
        return 0;
    }

    void warn(String message) {
        err.println("warning: " + message);
    }

    /** Records and prints why the command failed. */
    void fail(Failure failure) {
        record(failure);
        err.println("error: " + failure.message());
    }

    /** Records why the command failed, for a caller that printed it already. */
    void record(Failure failure) {
        this.failure = failure;
    }

    Failure failure() {
        return failure;
    }

    /** Closes what this context opened; safe to call again (serve closes early, from its shutdown hook). */
    @Override
    public void close() {
        if (catalog != null && ownsCatalog) {
            catalog.close();
            catalog = null;
        }
        if (embedded != null) {
            embedded.close();
            embedded = null;
        }
    }
}
