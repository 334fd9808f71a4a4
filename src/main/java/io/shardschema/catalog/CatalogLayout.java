package io.shardschema.catalog;

import io.shardschema.ShardSchemaException;
import io.shardschema.config.DataSources;
import io.shardschema.config.Dsn;
import io.shardschema.schema.Sql;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The catalog's layout and its upgrades. Layout 1 is the original three tables of DESIGN.md; each later step only
 * adds or widens, so a catalog made by the original statements keeps every row. The layout number lives in
 * {@code shardschema_layout}; {@link #initialize} brings any older catalog to {@link #CURRENT}.
 */
public final class CatalogLayout {
    /** The layout the last of STEPS makes. */
    public static final int CURRENT = 10;
    /** Longest shard (and replica) DSN the catalog stores (layout 3): TLS options with long file paths must fit whole. */
    public static final int SHARD_DSN_MAX = 2048;
    static final String LAYOUT_TABLE = "shardschema_layout";

    private CatalogLayout() {
    }

    /** What {@code init} did. */
    public record InitReport(String catalog, int fromLayout, int toLayout, List<String> steps) {
    }

    private interface Step {
        void apply(Connection c) throws SQLException;
    }

    private record LayoutStep(int layout, String description, Step step) {
    }

    private static final List<LayoutStep> STEPS = List.of(
            new LayoutStep(1, "original tables shards, versions, log", CatalogLayout::originalTables),
            new LayoutStep(2, "task state, retries, run details and claim indexes", CatalogLayout::taskState),
            new LayoutStep(3, "shardDSN widened to " + SHARD_DSN_MAX + " characters", CatalogLayout::longShardDsns),
            new LayoutStep(4, "online changes: version options and gates, waiting shards, table online",
                    CatalogLayout::onlineChanges),
            new LayoutStep(5, "expected schemas, rollbacks and guard overrides of versions; resulting fingerprints"
                    + " and directions of runs; shard version targets", CatalogLayout::schemaChecks),
            new LayoutStep(6, "table replicas: replica DSNs of shards", CatalogLayout::replicas),
            new LayoutStep(7, "table runners (who is running, seen when); index of runs by end time, for metrics",
                    CatalogLayout::runnersAndRunEnds),
            new LayoutStep(8, "catalog id (names the shard-side locks that fence tasks); online copy records",
                    CatalogLayout::fences),
            new LayoutStep(9, "shards.serverIdentity (what the server says it is) and a unique key on it and the schema",
                    CatalogLayout::serverIdentities),
            new LayoutStep(10, "versions.cmdType 'online': the built-in online engine", CatalogLayout::onlineType));

    /**
     * Creates the catalog database if needed and upgrades it to the current layout. Safe to run concurrently.
     * Refuses to upgrade while runners were seen within {@code liveWithinSeconds}: a runner of an older build keeps
     * working by the older layout's rules (no shard-side fence, unfenced online writes) next to the new ones.
     */
    public static InitReport initialize(Dsn catalogDsn, int liveWithinSeconds) {
        String db = catalogDsn.database();
        if (db == null) {
            throw ShardSchemaException.usage("dbDSN " + catalogDsn + " names no database; add /catalogname");
        }
        try (Connection c = DataSources.connect(catalogDsn.withDatabase(null))) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE IF NOT EXISTS " + Sql.quote(db));
                s.execute("USE " + Sql.quote(db));
            }
            lock(c);
            try {
                return upgrade(c, db, liveWithinSeconds);
            } finally {
                try (Statement s = c.createStatement()) {
                    s.execute("DO RELEASE_LOCK('shardschema.init')");
                }
            }
        } catch (SQLException e) {
            throw ShardSchemaException.error("init of catalog " + catalogDsn + " failed: " + e.getMessage(), e);
        }
    }

    private static void lock(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT GET_LOCK('shardschema.init', 60)")) {
            if (!rs.next() || rs.getInt(1) != 1) {
                throw ShardSchemaException.error("another init holds the catalog's init lock; try again");
            }
        }
    }

    private static InitReport upgrade(Connection c, String db, int liveWithinSeconds) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + LAYOUT_TABLE + " ("
                    + " id tinyint unsigned NOT NULL PRIMARY KEY,"
                    + " layout int NOT NULL,"
                    + " upgradedAt timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP"
                    + ") ENGINE=InnoDB");
        }
        int from = layout(c);
        if (from > CURRENT) {
            throw ShardSchemaException.error("catalog " + db + " has layout " + from + ", newer than this build's "
                    + CURRENT + "; upgrade shardschema");
        }
        if (from < CURRENT) {
            refuseWhileRunnersLive(c, db, from, liveWithinSeconds);
        }
        List<String> done = new ArrayList<>();
        // Numbers need not be consecutive: every step above the catalog's layout runs, in order.
        for (LayoutStep step : STEPS) {
            if (step.layout() <= from) {
                continue;
            }
            step.step().apply(c);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + LAYOUT_TABLE
                    + " (id, layout) VALUES (1, ?) ON DUPLICATE KEY UPDATE layout = VALUES(layout)")) {
                ps.setInt(1, step.layout());
                ps.executeUpdate();
            }
            done.add("layout " + step.layout() + ": " + step.description());
        }
        return new InitReport(db, from, CURRENT, done);
    }

    private static void refuseWhileRunnersLive(Connection c, String db, int from, int liveWithinSeconds)
            throws SQLException {
        if (!tableExists(c, "runners")) {
            // Layouts before 7 do not record runners: nothing to look at.
            return;
        }
        List<String> live = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT name FROM runners"
                + " WHERE lastSeen >= NOW(3) - INTERVAL ? SECOND ORDER BY name")) {
            ps.setInt(1, liveWithinSeconds);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    live.add(rs.getString(1));
                }
            }
        }
        if (!live.isEmpty()) {
            throw new ShardSchemaException(ShardSchemaException.REFUSED, "catalog " + db + " has layout " + from
                    + " and " + live.size() + " runner(s) were seen within " + liveWithinSeconds + " s ("
                    + String.join(", ", live) + "); a runner of an older build would go on by the older layout's"
                    + " rules next to the new ones: stop them (the stop file lets running tasks end), then run init"
                    + " again; nothing was changed");
        }
    }

    /** The layout number of the catalog the connection is in: 0 when it has none yet. */
    /** Whether {@code dsn}'s database holds a catalog, of any layout; connects without selecting that database. */
    public static boolean exists(Dsn dsn) {
        try (Connection c = DataSources.connect(dsn.withDatabase(null)); PreparedStatement ps = c.prepareStatement(
                "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?")) {
            ps.setString(1, dsn.database());
            ps.setString(2, LAYOUT_TABLE);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            throw DataSources.cannotConnect(dsn, e);
        }
    }

    static int layout(Connection c) throws SQLException {
        if (!tableExists(c, LAYOUT_TABLE)) {
            return 0;
        }
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT layout FROM " + LAYOUT_TABLE + " WHERE id = 1")) {
            return rs.next() ? rs.getInt(1) : 0;
        }
    }

    /**
     * The catalog's own id, made once by init: it names the locks that fence tasks on shard servers, so every runner
     * of this catalog uses the same names, however it spells the catalog's address.
     */
    static String catalogId(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT catalogId FROM " + LAYOUT_TABLE + " WHERE id = 1")) {
            if (!rs.next() || rs.getString(1) == null) {
                throw ShardSchemaException.error("the catalog has no id; run `shardschema init`");
            }
            return rs.getString(1);
        }
    }

    static boolean tableExists(Connection c, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM information_schema.TABLES"
                + " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static void originalTables(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS `shards` ("
                    + " `shardId` int(10) unsigned NOT NULL AUTO_INCREMENT,"
                    + " `schemaName` varchar(64) NOT NULL,"
                    + " `shardDSN` varchar(200) NOT NULL,"
                    + " `version` int(11) NOT NULL DEFAULT '0',"
                    + " `task` varchar(100) DEFAULT NULL,"
                    + " `lastTaskHb` timestamp NULL DEFAULT CURRENT_TIMESTAMP,"
                    + " `lastUpdate` timestamp NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,"
                    + " PRIMARY KEY (`shardId`),"
                    + " KEY `idx_version_task` (`version`,`task`),"
                    + " KEY `idx_task_lasthb` (`task`,`lastTaskHb`)"
                    + ") ENGINE=InnoDB DEFAULT CHARSET=latin1");
            s.execute("CREATE TABLE IF NOT EXISTS `versions` ("
                    + " `version` int(10) unsigned NOT NULL AUTO_INCREMENT,"
                    + " `command` varchar(1000) NOT NULL,"
                    + " `tableName` varchar(4) NOT NULL,"
                    + " `cmdType` enum('sql','pt-osc') NOT NULL DEFAULT 'sql',"
                    + " `lastUpdate` timestamp NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,"
                    + " PRIMARY KEY (`version`)"
                    + ") ENGINE=InnoDB DEFAULT CHARSET=latin1");
            s.execute("CREATE TABLE IF NOT EXISTS `log` ("
                    + " `shardId` int(10) unsigned NOT NULL,"
                    + " `version` int(10) unsigned NOT NULL,"
                    + " `run` tinyint(4) unsigned NOT NULL,"
                    + " `message` text,"
                    + " `output` longtext,"
                    + " `err` longtext,"
                    + " `lastUpdate` timestamp NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,"
                    + " PRIMARY KEY (`shardId`,`version`,`run`)"
                    + ") ENGINE=InnoDB DEFAULT CHARSET=latin1");
        }
    }

    private static void taskState(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            // Table definitions, errors and statements may hold any character: latin1 would mangle them.
            for (String table : List.of("shards", "versions", "log")) {
                s.execute("ALTER TABLE " + Sql.quote(table) + " CONVERT TO CHARACTER SET utf8mb4");
            }
            s.execute("ALTER TABLE `versions` MODIFY `tableName` varchar(64) NOT NULL,"
                    + " MODIFY `command` mediumtext NOT NULL");
        }
        addColumn(c, "versions", "validationQuery", "text NULL");
        addColumn(c, "versions", "validationExpected", "text NULL");

        addColumn(c, "shards", "serverKey", "varchar(255) NOT NULL DEFAULT ''");
        addColumn(c, "shards", "state", "enum('ready','running','failed') NOT NULL DEFAULT 'ready'");
        addColumn(c, "shards", "attempts", "smallint unsigned NOT NULL DEFAULT 0");
        addColumn(c, "shards", "retryAt", "timestamp NULL DEFAULT NULL");
        addIndex(c, "shards", "idx_claim", "(`state`,`version`)");
        addIndex(c, "shards", "idx_state_server", "(`state`,`serverKey`)");
        addIndex(c, "shards", "idx_state_hb", "(`state`,`lastTaskHb`)");

        addColumn(c, "log", "state", "varchar(16) NOT NULL DEFAULT ''");
        addColumn(c, "log", "runner", "varchar(100) NULL");
        addColumn(c, "log", "executed", "mediumtext NULL");
        addColumn(c, "log", "tableBefore", "mediumtext NULL");
        addColumn(c, "log", "shardConnection", "bigint unsigned NULL");
        addColumn(c, "log", "startedAt", "timestamp(3) NULL DEFAULT NULL");
        addColumn(c, "log", "finishedAt", "timestamp(3) NULL DEFAULT NULL");

        // Rows of the original layout: a task that was set meant a runner was working it; it is now a lease
        // that will be taken over once its heartbeat is older than the stall timeout.
        try (Statement s = c.createStatement()) {
            s.executeUpdate("UPDATE `shards` SET `state` = 'running', `lastTaskHb` = COALESCE(`lastTaskHb`, FROM_UNIXTIME(1))"
                    + " WHERE `task` IS NOT NULL AND `state` = 'ready'");
        }
        backfillServerKeys(c);
        uniqueShards(c);
    }

    private static void longShardDsns(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("ALTER TABLE `shards` MODIFY `shardDSN` varchar(" + SHARD_DSN_MAX + ") NOT NULL");
        }
    }

    private static void onlineChanges(Connection c) throws SQLException {
        addColumn(c, "versions", "options", "text NULL");
        addColumn(c, "versions", "autoApprove", "tinyint NOT NULL DEFAULT 0");
        addColumn(c, "versions", "autoCutover", "tinyint NOT NULL DEFAULT 0");
        addColumn(c, "versions", "finalInsert", "mediumtext NULL");
        try (Statement s = c.createStatement()) {
            // 'waiting': an online change stands at a gate (approval, cut-over) until a DBA moves it on.
            s.execute("ALTER TABLE `shards` MODIFY `state` enum('ready','running','failed','waiting')"
                    + " NOT NULL DEFAULT 'ready'");
            s.execute("CREATE TABLE IF NOT EXISTS `online` ("
                    + " `shardId` int unsigned NOT NULL,"
                    + " `version` int unsigned NOT NULL,"
                    + " `phase` varchar(32) NOT NULL,"
                    + " `approved` tinyint NOT NULL DEFAULT 0,"
                    + " `cutoverRequested` tinyint NOT NULL DEFAULT 0,"
                    + " `cancelRequested` tinyint NOT NULL DEFAULT 0,"
                    + " `tableRows` bigint NULL,"
                    + " `tableBytes` bigint NULL,"
                    + " `progress` decimal(5,2) NULL,"
                    + " `etaSeconds` int NULL,"
                    + " `oldTable` varchar(64) NULL,"
                    + " `pendingTable` varchar(64) NULL,"
                    + " `updatedAt` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),"
                    + " PRIMARY KEY (`shardId`, `version`),"
                    + " KEY `idx_version_phase` (`version`, `phase`)"
                    + ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
        }
    }

    private static void schemaChecks(Connection c) throws SQLException {
        addColumn(c, "versions", "expectedSchema", "mediumtext NULL");
        addColumn(c, "versions", "expectedFingerprint", "char(64) NULL");
        addColumn(c, "versions", "tableBefore", "mediumtext NULL");
        addColumn(c, "versions", "algorithm", "varchar(16) NULL");
        addColumn(c, "versions", "rollbackCommand", "mediumtext NULL");
        addColumn(c, "versions", "forced", "tinyint NOT NULL DEFAULT 0");
        addColumn(c, "log", "fingerprint", "char(64) NULL");
        addColumn(c, "log", "down", "tinyint NOT NULL DEFAULT 0");
        // NULL: follow the latest version; a number: `down --to` pinned the shard there.
        addColumn(c, "shards", "targetVersion", "int NULL");
        addIndex(c, "shards", "idx_state_target", "(`state`,`targetVersion`)");
    }

    private static void replicas(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            // An id as key: (shardId, replicaDSN) would exceed InnoDB's key length; shard add removes duplicates.
            s.execute("CREATE TABLE IF NOT EXISTS `replicas` ("
                    + " `id` bigint unsigned NOT NULL AUTO_INCREMENT,"
                    + " `shardId` int unsigned NOT NULL,"
                    + " `replicaDSN` varchar(" + SHARD_DSN_MAX + ") NOT NULL,"
                    + " PRIMARY KEY (`id`),"
                    + " KEY `idx_shard` (`shardId`)"
                    + ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
        }
    }

    private static void runnersAndRunEnds(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS `runners` ("
                    + " `name` varchar(100) NOT NULL,"
                    + " `workers` int NOT NULL,"
                    + " `startedAt` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),"
                    + " `lastSeen` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),"
                    + " PRIMARY KEY (`name`)"
                    + ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
        }
        addIndex(c, "log", "idx_finished", "(`finishedAt`)");
    }

    private static void fences(Connection c) throws SQLException {
        addColumn(c, LAYOUT_TABLE, "catalogId", "char(36) NULL");
        try (Statement s = c.createStatement()) {
            s.executeUpdate("UPDATE " + LAYOUT_TABLE + " SET catalogId = UUID() WHERE id = 1 AND catalogId IS NULL");
        }
        // The run whose copy completed and passed its row count check: the swap requires one.
        addColumn(c, "online", "copiedRun", "tinyint unsigned NULL");
    }

    /**
     * The unique key on (serverKey, schemaName) is bypassed by spelling a server differently ({@code db1} and its
     * address): the key on the identity the server reports at registration is not. Rows from before stay NULL (so
     * they do not collide) until their server is registered again.
     */
    private static void serverIdentities(Connection c) throws SQLException {
        addColumn(c, "shards", "serverIdentity", "varchar(255) NULL");
        if (!exists(c, "STATISTICS", "INDEX_NAME", "shards", "uniq_identity_schema")) {
            alter(c, "shards", "ADD UNIQUE INDEX `uniq_identity_schema` (`serverIdentity`, `schemaName`)");
        }
    }

    private static void onlineType(Connection c) throws SQLException {
        alter(c, "versions", "MODIFY `cmdType` enum('sql','pt-osc','online') NOT NULL DEFAULT 'sql'");
    }

    private static void backfillServerKeys(Connection c) throws SQLException {
        List<long[]> ids = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT shardId, shardDSN FROM shards WHERE serverKey = ''")) {
            while (rs.next()) {
                String key;
                try {
                    key = Dsn.parse(rs.getString(2)).serverKey();
                } catch (ShardSchemaException e) {
                    key = "unparsable";
                }
                ids.add(new long[]{rs.getLong(1)});
                keys.add(key);
            }
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE shards SET serverKey = ? WHERE shardId = ?")) {
            for (int i = 0; i < ids.size(); i++) {
                ps.setString(1, keys.get(i));
                ps.setLong(2, ids.get(i)[0]);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** One row per schema and server: two rows would mean two runners applying each change to one schema. */
    private static void uniqueShards(Connection c) throws SQLException {
        if (exists(c, "STATISTICS", "INDEX_NAME", "shards", "uniq_server_schema")) {
            return;
        }
        List<String> duplicates = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT serverKey, schemaName,"
                + " GROUP_CONCAT(shardId ORDER BY shardId) FROM shards GROUP BY serverKey, schemaName HAVING COUNT(*) > 1")) {
            while (rs.next()) {
                duplicates.add(rs.getString(2) + " on " + rs.getString(1) + " (shards " + rs.getString(3) + ")");
            }
        }
        if (!duplicates.isEmpty()) {
            throw ShardSchemaException.error("these schemas are registered more than once: " + String.join("; ", duplicates)
                    + ". Remove the extra rows (`shardschema shard remove ID` after init, or DELETE FROM shards) and run"
                    + " init again");
        }
        alter(c, "shards", "ADD UNIQUE INDEX `uniq_server_schema` (`serverKey`, `schemaName`)");
    }

    private static void addColumn(Connection c, String table, String column, String definition) throws SQLException {
        if (!exists(c, "COLUMNS", "COLUMN_NAME", table, column)) {
            alter(c, table, "ADD COLUMN " + Sql.quote(column) + " " + definition);
        }
    }

    private static void addIndex(Connection c, String table, String index, String columns) throws SQLException {
        if (!exists(c, "STATISTICS", "INDEX_NAME", table, index)) {
            alter(c, table, "ADD INDEX " + Sql.quote(index) + " " + columns);
        }
    }

    /** Whether information_schema.{view} has a row for this table of the current database with {nameColumn} = name. */
    private static boolean exists(Connection c, String view, String nameColumn, String table, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM information_schema." + view
                + " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND " + nameColumn + " = ?")) {
            ps.setString(1, table);
            ps.setString(2, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static void alter(Connection c, String table, String change) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("ALTER TABLE " + Sql.quote(table) + " " + change);
        }
    }
}
