package io.shardschema.catalog;

import io.shardschema.testing.Cli;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** A catalog made with the original three statements of DESIGN.md, full of rows, is upgraded by init and rolls on. */
class LegacyUpgradeTest {

    @Test
    void initUpgradesTheOriginalLayoutKeepingEveryRowThenARolloutFinishes() {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "legacy", 6);
        String cat = "`" + fleet.prefix + "_old`";
        fleet.execute("CREATE DATABASE " + cat);
        fleet.execute("CREATE TABLE " + cat + ".`shards` (`shardId` int(10) unsigned NOT NULL AUTO_INCREMENT,"
                + " `schemaName` varchar(64) NOT NULL, `shardDSN` varchar(200) NOT NULL,"
                + " `version` int(11) NOT NULL DEFAULT '0', `task` varchar(100) DEFAULT NULL,"
                + " `lastTaskHb` timestamp NULL DEFAULT CURRENT_TIMESTAMP,"
                + " `lastUpdate` timestamp NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,"
                + " PRIMARY KEY (`shardId`), KEY `idx_version_task` (`version`,`task`),"
                + " KEY `idx_task_lasthb` (`task`,`lastTaskHb`)) ENGINE=InnoDB DEFAULT CHARSET=latin1");
        fleet.execute("CREATE TABLE " + cat + ".`versions` (`version` int(10) unsigned NOT NULL AUTO_INCREMENT,"
                + " `command` varchar(1000) NOT NULL, `tableName` varchar(4) NOT NULL,"
                + " `cmdType` enum('sql','pt-osc') NOT NULL DEFAULT 'sql',"
                + " `lastUpdate` timestamp NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,"
                + " PRIMARY KEY (`version`)) ENGINE=InnoDB DEFAULT CHARSET=latin1");
        fleet.execute("CREATE TABLE " + cat + ".`log` (`shardId` int(10) unsigned NOT NULL,"
                + " `version` int(10) unsigned NOT NULL, `run` tinyint(4) unsigned NOT NULL, `message` text,"
                + " `output` longtext, `err` longtext,"
                + " `lastUpdate` timestamp NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,"
                + " PRIMARY KEY (`shardId`,`version`,`run`)) ENGINE=InnoDB DEFAULT CHARSET=latin1");
        // The old tool's rows: version 1 applied everywhere (logged), version 2 pending, two shards' tasks left
        // behind by a runner that died long ago (one of them without a heartbeat at all).
        for (int i = 0; i < fleet.schemas.size(); i++) {
            String s = fleet.schemas.get(i);
            fleet.execute("ALTER TABLE `" + s + "`.t ADD COLUMN c1 INT");
            fleet.execute("INSERT INTO " + cat + ".shards (schemaName, shardDSN, version, task, lastTaskHb) VALUES ('"
                    + s + "', 'root@tcp(127.0.0.1:" + fleet.server.port() + ")/" + s + "', 1, "
                    + (i == 0 ? "'oldrunner-v2', NOW() - INTERVAL 1 HOUR" : i == 1 ? "'oldrunner-v2', NULL" : "NULL, NULL") + ")");
            fleet.execute("INSERT INTO " + cat + ".log (shardId, version, run, message, output) VALUES ("
                    + (i + 1) + ", 1, 1, 'done', 'ok')");
        }
        fleet.execute("INSERT INTO " + cat + ".versions (command, tableName) VALUES ('ADD COLUMN c1 INT', 't')");
        fleet.execute("INSERT INTO " + cat + ".versions (command, tableName) VALUES ('ADD INDEX i_c1 (c1)', 't')");
        fleet.set("dbDSN", fleet.server.rootDsn(fleet.prefix + "_old").toGoForm(true));

        Cli.Result init = Cli.run(fleet.configFile, "init");
        assertThat(init.exit()).as(init.all()).isZero();
        assertThat(init.out()).contains("from layout 0 to " + CatalogLayout.CURRENT);
        Cli.Result again = Cli.run(fleet.configFile, "init");
        assertThat(again.out()).contains("nothing to do");

        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".shards")).isEqualTo(6);
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".log")).isEqualTo(6);
        assertThat(fleet.column("SELECT command FROM " + cat + ".versions ORDER BY version"))
                .containsExactly("ADD COLUMN c1 INT", "ADD INDEX i_c1 (c1)");
        assertThat(fleet.column("SELECT DISTINCT serverKey FROM " + cat + ".shards"))
                .containsExactly("127.0.0.1:" + fleet.server.port());
        assertThat(fleet.column("SELECT state FROM " + cat + ".shards WHERE shardId IN (1, 2)")).containsExactly("running", "running");
        assertThat(fleet.column("SELECT CHARACTER_MAXIMUM_LENGTH FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '"
                + fleet.prefix + "_old' AND TABLE_NAME = 'versions' AND COLUMN_NAME = 'tableName'")).containsExactly("64");
        assertThat(fleet.column("SELECT CHARACTER_MAXIMUM_LENGTH FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '"
                + fleet.prefix + "_old' AND TABLE_NAME = 'shards' AND COLUMN_NAME = 'shardDSN'"))
                .containsExactly(String.valueOf(CatalogLayout.SHARD_DSN_MAX));

        Cli.Result run = Cli.run(fleet.configFile, "run", "--json");
        assertThat(run.exit()).as(run.all()).isZero();
        assertThat(run.out()).contains("\"takeovers\" : 2").contains("\"applied\" : 6");
        assertThat(fleet.column("SELECT DISTINCT version FROM " + cat + ".shards")).containsExactly("2");
        assertThat(fleet.count("SELECT COUNT(DISTINCT TABLE_SCHEMA) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA LIKE '"
                + fleet.prefix + "\\_s%' AND INDEX_NAME = 'i_c1'")).isEqualTo(6);
    }

    @Test
    void initRefusesToUpgradeWhileRunnersOfTheOlderBuildRun() {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "liveup", 1);
        String cat = "`" + fleet.prefix + "_catalog`";
        // A catalog at layout 7 with a runner of that build alive: it would take no shard-side fence.
        fleet.execute("UPDATE " + cat + ".shardschema_layout SET layout = 7");
        fleet.execute("INSERT INTO " + cat + ".runners (name, workers) VALUES ('old-build:42:x', 8)");

        Cli.Result refused = Cli.run(fleet.configFile, "init");

        assertThat(refused.exit()).as(refused.all()).isEqualTo(4);
        assertThat(refused.err()).contains("old-build:42:x").contains("nothing was changed");
        assertThat(fleet.column("SELECT layout FROM " + cat + ".shardschema_layout")).containsExactly("7");

        fleet.execute("DELETE FROM " + cat + ".runners");
        Cli.Result upgraded = Cli.run(fleet.configFile, "init");
        assertThat(upgraded.exit()).as(upgraded.all()).isZero();
        assertThat(fleet.column("SELECT layout FROM " + cat + ".shardschema_layout"))
                .containsExactly(String.valueOf(CatalogLayout.CURRENT));
    }
}
