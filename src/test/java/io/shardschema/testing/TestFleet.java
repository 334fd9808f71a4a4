package io.shardschema.testing;

import io.shardschema.catalog.Catalog;
import io.shardschema.catalog.CatalogLayout;
import io.shardschema.config.Config;
import io.shardschema.config.DataSources;
import io.shardschema.config.Dsn;
import io.shardschema.embedded.MariaDbServer;
import io.shardschema.schema.Sql;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A test's own fleet: a catalog database and N shard schemas (each with a table {@code t(id, v)} and a few rows)
 * with names unique to the test, plus a config file whose throttle and stop files live in the test's folder and
 * whose timings are short (heartbeat 1 s, stall 4 s, retry delay 1 s).
 */
public final class TestFleet {
    /** The catalog's server (and, unless the fleet was made with {@link #create(MariaDbServer, MariaDbServer, String, int)}, the shards'). */
    public final MariaDbServer server;
    /** The server the shard schemas live on. */
    public final MariaDbServer shardServer;
    public final String prefix;
    public final Dsn catalogDsn;
    public final List<String> schemas = new ArrayList<>();
    public final Path dir;
    public final Path configFile;
    public final Map<String, String> settings = new LinkedHashMap<>();

    private TestFleet(MariaDbServer server, MariaDbServer shardServer, String prefix, Path dir) {
        this.server = server;
        this.shardServer = shardServer;
        this.prefix = prefix;
        this.dir = dir;
        this.catalogDsn = server.rootDsn(prefix + "_catalog");
        this.configFile = dir.resolve("shardschema.cnf");
        settings.put("dbDSN", catalogDsn.toGoForm(true));
        settings.put("throttlingFile", dir.resolve("throttle").toString());
        settings.put("stopFile", dir.resolve("stop").toString());
        settings.put("heartbeatSeconds", "1");
        settings.put("stallSeconds", "4");
        settings.put("retryDelaySeconds", "1");
        settings.put("workers", "8");
        settings.put("perServerConcurrency", "8");
        settings.put("logDir", dir.resolve("logs").toString());
        settings.put("pendingDropsDb", prefix + "_pending");
    }

    /** Creates {@code shards} schemas, the catalog (init) and the config file; registers nothing yet. */
    public static TestFleet create(MariaDbServer server, String name, int shards) {
        return create(server, server, name, shards);
    }

    /** As {@link #create(MariaDbServer, String, int)}, with the catalog on one server and the shards on another. */
    public static TestFleet create(MariaDbServer catalogServer, MariaDbServer shardServer, String name, int shards) {
        String prefix = name + "_" + UUID.randomUUID().toString().substring(0, 6);
        try {
            Path dir = Files.createDirectories(Path.of("target", "test-fleets", prefix)).toAbsolutePath();
            TestFleet fleet = new TestFleet(catalogServer, shardServer, prefix, dir);
            fleet.createSchemas(shards);
            fleet.writeConfig();
            CatalogLayout.initialize(fleet.catalogDsn, 60);
            return fleet;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void createSchemas(int n) {
        try (Connection c = DataSources.connect(shardServer.rootDsn(null)); Statement s = c.createStatement()) {
            for (int i = 1; i <= n; i++) {
                String schema = String.format("%s_s%05d", prefix, i);
                schemas.add(schema);
                s.execute("CREATE DATABASE " + Sql.quote(schema));
                s.execute("CREATE TABLE " + Sql.quote(schema) + ".t (id INT PRIMARY KEY, v VARCHAR(20))");
                s.execute("INSERT INTO " + Sql.quote(schema) + ".t VALUES (1, 'a'), (2, 'b'), (3, 'c')");
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    public void set(String key, String value) {
        settings.put(key, value);
        writeConfig();
    }

    public void writeConfig() {
        StringBuilder sb = new StringBuilder("# written by TestFleet\n");
        settings.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        try {
            Files.writeString(configFile, sb.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Config config() {
        return Config.load(configFile);
    }

    public Catalog openCatalog() {
        return Catalog.open(catalogDsn, 4);
    }

    /** Registers every schema with `shard discover`. */
    public void registerAll() {
        Cli.Result r = Cli.run(configFile, "shard", "discover", "--dsn", shardServer.rootDsn(null).toString(),
                "--like", prefix + "\\_s%");
        if (r.exit() != 0) {
            throw new IllegalStateException("discover failed: " + r.all());
        }
    }

    /** The server key of the shards' server, as reports name it ({@code host:port}). */
    public String serverKey() {
        return shardServer.rootDsn(null).serverKey();
    }

    /**
     * How reports name shard {@code id} of this fleet (registered by {@link #registerAll()}, so shard N is
     * schema N): {@code shard 3 (prefix_s00003@127.0.0.1:PORT)}.
     */
    public String shardName(int id) {
        return "shard " + id + " (" + schemas.get(id - 1) + "@" + serverKey() + ")";
    }

    public int addVersion(String table, String command) {
        Cli.Result r = Cli.run(configFile, "version", "add", "--table", table, "--command", command);
        if (r.exit() != 0) {
            throw new IllegalStateException("version add failed: " + r.all());
        }
        return Integer.parseInt(r.out().strip());
    }

    public Connection connect(String schema) {
        return DataSources.connect(shardServer.rootDsn(schema));
    }

    /** Runs a query on the (catalog's) server and returns the first column of every row. */
    public List<String> column(String sql) {
        return column(server, sql);
    }

    /** Runs a query on the shards' server and returns the first column of every row. */
    public List<String> shardColumn(String sql) {
        return column(shardServer, sql);
    }

    public int shardCount(String sql) {
        return Integer.parseInt(shardColumn(sql).get(0));
    }

    private static List<String> column(MariaDbServer on, String sql) {
        try (Connection c = DataSources.connect(on.rootDsn(null)); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            List<String> out = new ArrayList<>();
            while (rs.next()) {
                out.add(rs.getString(1));
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    public void execute(String sql) {
        try (Connection c = DataSources.connect(server.rootDsn(null)); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    public int count(String sql) {
        return Integer.parseInt(column(sql).get(0));
    }

    /**
     * The end state every fault test demands: each (shard, version) up to {@code versions} ended exactly once
     * (one applied or already-applied run), no run met the change already in place, and every shard has the tables
     * {@code tablePrefix}1..N made by {@code CREATE TABLE ... AS SELECT}, each with its one row.
     */
    public void assertEachChangeLandedOnce(String tablePrefix, int versions) {
        String cat = "`" + prefix + "_catalog`";
        int tasks = schemas.size() * versions;
        assertThat(count("SELECT COUNT(*) FROM " + cat + ".log"
                + " WHERE state IN ('applied', 'already-applied')")).isEqualTo(tasks);
        assertThat(count("SELECT COUNT(*) FROM (SELECT shardId, version FROM " + cat
                + ".log WHERE state IN ('applied', 'already-applied') GROUP BY shardId, version) x")).isEqualTo(tasks);
        assertThat(count("SELECT COUNT(*) FROM " + cat + ".log"
                + " WHERE err LIKE '%already exists%'")).isZero();
        try (Connection c = connect(null); Statement s = c.createStatement()) {
            for (String schema : schemas) {
                for (int v = 1; v <= versions; v++) {
                    try (ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM `" + schema + "`." + tablePrefix + v)) {
                        rs.next();
                        assertThat(rs.getInt(1)).as(schema + "." + tablePrefix + v).isEqualTo(1);
                    }
                }
            }
        } catch (SQLException e) {
            throw new AssertionError("cannot read " + tablePrefix + " tables: " + e.getMessage(), e);
        }
    }
}
