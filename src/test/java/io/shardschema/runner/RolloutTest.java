package io.shardschema.runner;

import io.shardschema.testing.Cli;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RolloutTest {

    @Test
    void everyShardReachesTheLatestVersionWithOneRunPerTask() {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "roll", 200);
        fleet.registerAll();
        fleet.addVersion("t", "ADD COLUMN c1 INT NOT NULL DEFAULT 7");
        fleet.addVersion("t", "ADD INDEX idx_v (v)");
        fleet.addVersion("t2", "CREATE TABLE t2 (id INT PRIMARY KEY, note VARCHAR(10))");

        Cli.Result run = Cli.run(fleet.configFile, "run", "--workers", "6");

        assertThat(run.exit()).as(run.all()).isZero();
        String cat = fleet.prefix + "_catalog";
        assertThat(fleet.column("SELECT DISTINCT version FROM `" + cat + "`.shards")).containsExactly("3");
        assertThat(fleet.count("SELECT COUNT(*) FROM `" + cat + "`.shards")).isEqualTo(200);
        // One run per (shard, version), each applied, none repeated.
        assertThat(fleet.count("SELECT COUNT(*) FROM `" + cat + "`.log")).isEqualTo(600);
        assertThat(fleet.column("SELECT DISTINCT state FROM `" + cat + "`.log")).containsExactly("applied");
        assertThat(fleet.count("SELECT MAX(run) FROM `" + cat + "`.log")).isEqualTo(1);
        assertThat(fleet.count("SELECT COUNT(*) FROM `" + cat + "`.log WHERE executed LIKE 'ALTER TABLE `t` ADD COLUMN c1%'"
                + " AND output LIKE 'rows affected:%'")).isEqualTo(200);
        // The shards really have the changes.
        String like = "'" + fleet.prefix + "\\_s%'";
        assertThat(fleet.count("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA LIKE " + like
                + " AND TABLE_NAME = 't' AND COLUMN_NAME = 'c1' AND COLUMN_DEFAULT = '7'")).isEqualTo(200);
        assertThat(fleet.count("SELECT COUNT(DISTINCT TABLE_SCHEMA) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA LIKE "
                + like + " AND TABLE_NAME = 't' AND INDEX_NAME = 'idx_v'")).isEqualTo(200);
        assertThat(fleet.count("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA LIKE " + like
                + " AND TABLE_NAME = 't2'")).isEqualTo(200);

        Cli.Result status = Cli.run(fleet.configFile, "status", "--json");
        assertThat(status.exit()).isZero();
        assertThat(status.out()).contains("\"done\" : 200").doesNotContain("\"pending\" : 1");

        // Nothing left: a second run does nothing and exits 0.
        Cli.Result again = Cli.run(fleet.configFile, "run", "--json");
        assertThat(again.exit()).isZero();
        assertThat(again.out()).contains("\"applied\" : 0");
    }

    @Test
    void versionNumbersMayHaveGapsAndStatementsAnyCharacter() {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "gaps", 4);
        fleet.registerAll();
        fleet.addVersion("t", "ADD COLUMN a INT COMMENT 'ユーザー番号'");
        int dropped = fleet.addVersion("t", "ADD COLUMN never INT");
        String cat = "`" + fleet.prefix + "_catalog`";
        fleet.execute("DELETE FROM " + cat + ".versions WHERE version = " + dropped);
        fleet.addVersion("t", "ADD COLUMN c VARCHAR(10) DEFAULT 'café' COMMENT '🚀'");

        Cli.Result run = Cli.run(fleet.configFile, "run");

        assertThat(run.exit()).as(run.all()).isZero();
        assertThat(fleet.column("SELECT DISTINCT version FROM " + cat + ".shards")).containsExactly("3");
        assertThat(fleet.column("SELECT DISTINCT version FROM " + cat + ".log ORDER BY version")).containsExactly("1", "3");
        assertThat(fleet.column("SELECT DISTINCT executed FROM " + cat + ".log WHERE version = 3"))
                .containsExactly("ALTER TABLE `t` ADD COLUMN c VARCHAR(10) DEFAULT 'café' COMMENT '🚀'");
        assertThat(fleet.count("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA LIKE '" + fleet.prefix
                + "\\_s%' AND COLUMN_COMMENT = 'ユーザー番号'")).isEqualTo(4);
        assertThat(fleet.count("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA LIKE '" + fleet.prefix
                + "\\_s%' AND COLUMN_NAME = 'never'")).isZero();
        assertThat(Cli.run(fleet.configFile, "status", "--json").json().at("/versions/1/done").asInt()).isEqualTo(4);
    }
}
