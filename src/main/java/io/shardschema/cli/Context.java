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

    Context(PrintStream out, PrintStream err, Map<String, String> env) {
        this.out = out;
        this.err = err;
        this.env = env;
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

    @Override
    public void close() {
        if (catalog != null) {
            catalog.close();
        }
        if (embedded != null) {
            embedded.close();
        }
    }
}
