package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Catalog;
import io.shardschema.catalog.CatalogLayout;
import io.shardschema.config.Config;
import io.shardschema.config.DataSources;
import io.shardschema.config.Dsn;
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
        + " rows, register them and three versions in a demo catalog, roll them out, and show the status.")
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

    record Result(RunCommand.Result run, StatusCommand.Result status) implements Report {
        @Override
        public String text() {
            return run.text() + "\n\n" + status.text();
        }
    }

    @Override
    public Integer call() throws SQLException {
        if (shards < 1 || shards > 10_000) {
            throw ShardSchemaException.usage("--shards must be between 1 and 10000");
        }
        Dsn server = context.embedded().dsn(null);
        context.err.println("demo: embedded MariaDB on " + server.serverKey() + "; creating " + shards + " shard schemas");
        List<String> names = createFleet(server, shards);
        CatalogLayout.initialize(server.withDatabase(DEMO_CATALOG), context.config().stallSeconds());
        Config config = context.config().with("perServerConcurrency", "8").with("workers", "8");
        try (Catalog catalog = Catalog.open(server.withDatabase(DEMO_CATALOG), 12)) {
            catalog.addShards(names, server.withoutPassword(), null);
            catalog.addVersion("users", "ADD COLUMN last_login DATETIME NULL", "sql", null, null);
            catalog.addVersion("orders", "ADD INDEX idx_user_created (user_id, created)", "sql", null, null);
            catalog.addVersion("audit", "CREATE TABLE audit (id BIGINT AUTO_INCREMENT PRIMARY KEY,"
                    + " user_id INT NOT NULL, action VARCHAR(40) NOT NULL, at DATETIME NOT NULL)", "sql",
                    "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'audit'",
                    "1");
            context.err.println("demo: registered " + names.size() + " shards and 3 versions; rolling out");
            RunCommand.Result run = RunCommand.run(catalog, config, 8, false, !json.json);
            context.print(new Result(run, StatusCommand.build(catalog, config)), json);
            return run.failedShards() > 0 ? ShardSchemaException.SOME_FAILED : 0;
        }
    }

    private static List<String> createFleet(Dsn server, int count) throws SQLException {
        List<String> names = new ArrayList<>();
        try (Connection c = DataSources.connect(server); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + Sql.quote(DEMO_CATALOG));
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
