package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Catalog;
import io.shardschema.catalog.CatalogLayout;
import io.shardschema.config.Config;
import io.shardschema.config.DataSources;
import io.shardschema.config.Dsn;
import io.shardschema.embedded.EmbeddedCatalog;
import io.shardschema.schema.Sql;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "demo", mixinStandardHelpOptions = true, description = "On the embedded MariaDB: make a fleet of shard schemas with a few tables and"
        + " rows, register them and three versions, roll them out, and show the status. With no dbDSN the fleet is"
        + " in the embedded default catalog, which every other command then reads; a second demo starts over"
        + " (refused if that catalog holds shards the demo did not make).")
final class DemoCommand implements Callable<Integer> {
    static final String DEMO_CATALOG = "shardschema_demo";
    private final Context context;
    @Mixin
    JsonOption json;
    @Option(names = "--shards", defaultValue = "100", description = "How many shard schemas (default 100).")
    int shards;

    DemoCommand(Context context) {
        this.context = context;
    }

    /** The commands worth trying next, when they read the demo's catalog (no dbDSN configured). */
    static final List<String> NEXT = List.of("./shardschema status", "./shardschema shard list --limit 5",
            "./shardschema log --shard 1", "./shardschema schema validate", "./shardschema diff --shard 1 --version 3",
            "./shardschema serve    # the dashboard: http://127.0.0.1:8080/ (Ctrl-C stops it)");

    record Result(RunCommand.Result run, StatusCommand.Result status, List<String> next) implements Report {
        @Override
        public String text() {
            return run.text() + "\n\n" + status.text() + (next.isEmpty() ? ""
                    : "\n\nnext, on the demo's fleet:\n  " + String.join("\n  ", next));
        }
    }

    @Override
    public Integer call() throws SQLException {
        if (shards < 1 || shards > 10_000) {
            throw ShardSchemaException.usage("--shards must be between 1 and 10000");
        }
        Dsn server = context.embedded().dsn(null);
        // With no dbDSN the demo's fleet lives in the embedded default catalog, so every other command sees it.
        boolean ownCatalog = context.config().catalogDsn().isPresent();
        Dsn catalogDsn = server.withDatabase(ownCatalog ? DEMO_CATALOG : EmbeddedCatalog.CATALOG_DB);
        refuseForeignShards(catalogDsn);
        context.err.println("demo: embedded MariaDB on " + server.serverKey() + "; creating " + shards + " shard schemas");
        List<String> names = createFleet(server, catalogDsn.database(), shards);
        CatalogLayout.initialize(catalogDsn, context.config().stallSeconds());
        Config config = context.config().with("perServerConcurrency", "8").with("workers", "8");
        try (Catalog catalog = Catalog.open(catalogDsn, 12)) {
            catalog.addShards(names, server.withoutPassword(), null);
            catalog.addVersion("users", "ADD COLUMN last_login DATETIME NULL", "sql", null, null);
            catalog.addVersion("orders", "ADD INDEX idx_user_created (user_id, created)", "sql", null, null);
            catalog.addVersion("audit", "CREATE TABLE audit (id BIGINT AUTO_INCREMENT PRIMARY KEY,"
                    + " user_id INT NOT NULL, action VARCHAR(40) NOT NULL, at DATETIME NOT NULL)", "sql",
                    "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'audit'",
                    "1");
            context.err.println("demo: registered " + names.size() + " shards and 3 versions; rolling out");
            RunCommand.Result run = RunCommand.run(catalog, config, 8, false, !json.json);
            context.print(new Result(run, StatusCommand.build(catalog, config), ownCatalog ? List.of() : NEXT), json);
            return run.failedShards() > 0 ? ShardSchemaException.SOME_FAILED : 0;
        }
    }

    /**
     * The demo starts over by dropping its catalog: refused when that catalog holds shards the demo did not make,
     * which would be lost with it.
     */
    private static void refuseForeignShards(Dsn catalogDsn) {
        if (!CatalogLayout.exists(catalogDsn)) {
            return;
        }
        // A catalog that cannot be read (an older layout: `init`) is not dropped unseen.
        try (Catalog catalog = Catalog.open(catalogDsn, 2)) {
            catalog.shards().stream().filter(s -> !DEMO_SHARD.matcher(s.schemaName()).matches()).findFirst()
                    .ifPresent(s -> {
                        throw new ShardSchemaException(ShardSchemaException.REFUSED, "the catalog " + catalogDsn.database()
                                + " holds shards the demo did not make (shard " + s.id() + ", " + s.schemaName()
                                + "); the demo starts over by dropping it: run it with another embeddedDir"
                                + " (config key), or remove those shards first");
                    });
        }
    }

    private static final java.util.regex.Pattern DEMO_SHARD = java.util.regex.Pattern.compile("demo_shard_\\d+");

    private static List<String> createFleet(Dsn server, String catalogDb, int count) throws SQLException {
        List<String> names = new ArrayList<>();
        try (Connection c = DataSources.connect(server); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + Sql.quote(catalogDb));
            // The shards of an earlier, bigger demo go too.
            List<String> earlier = new ArrayList<>();
            try (java.sql.ResultSet rs = s.executeQuery("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA"
                    + " WHERE SCHEMA_NAME LIKE 'demo\\_shard\\_%'")) {
                while (rs.next()) {
                    earlier.add(rs.getString(1));
                }
            }
            for (String name : earlier) {
                if (DEMO_SHARD.matcher(name).matches()) {
                    s.execute("DROP DATABASE " + Sql.quote(name));
                }
            }
            for (int i = 1; i <= count; i++) {
                String name = String.format("demo_shard_%03d", i);
                names.add(name);
                String q = Sql.quote(name);
                s.execute("DROP DATABASE IF EXISTS " + q);
                s.execute("CREATE DATABASE " + q);
                s.execute("CREATE TABLE " + q + ".users (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(100) NOT NULL,"
                        + " created DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP)");
                s.execute("CREATE TABLE " + q + ".orders (id INT AUTO_INCREMENT PRIMARY KEY, user_id INT NOT NULL,"
                        + " amount DECIMAL(10,2) NOT NULL, created DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP)");
                s.execute("USE " + q);
                s.execute("INSERT INTO " + q + ".users (email) SELECT CONCAT('user', seq, '@example.com')"
                        + " FROM seq_1_to_20");
                s.execute("INSERT INTO " + q + ".orders (user_id, amount) SELECT 1 + seq % 20, seq * 1.5 FROM seq_1_to_50");
            }
        }
        return names;
    }
}
