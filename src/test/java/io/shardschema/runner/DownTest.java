package io.shardschema.runner;

import io.shardschema.testing.Cli;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Going down: rollbacks given or derived, applied by the runner in reverse order, back to the starting schemas. */
class DownTest {

    @Test
    void upThreeVersionsAndDownToZeroRestoresEveryShardsFingerprint() {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "down", 4);
        fleet.registerAll();
        List<String> start = fingerprints(fleet);

        Cli.Result column = Cli.run(fleet.configFile, "version", "add", "--json", "--table", "t", "--command", "ADD COLUMN c INT");
        assertThat(column.json().path("rollback").asText()).isEqualTo("DROP COLUMN `c`");
        assertThat(column.json().path("rollbackDerived").asBoolean()).isTrue();
        Cli.Result badRollback = Cli.run(fleet.configFile, "version", "add", "--table", "t", "--command",
                "MODIFY v VARCHAR(40)", "--rollback", "MODIFY v VARCHAR(30)");
        assertThat(badRollback.exit()).as("a rollback that does not restore the table is refused").isEqualTo(4);
        assertThat(badRollback.err()).contains("does not bring the tables back").contains("varchar(30)");
        assertThat(Cli.run(fleet.configFile, "version", "add", "--table", "t", "--command", "MODIFY v VARCHAR(40)",
                "--rollback", "MODIFY v VARCHAR(20)").exit()).isZero();
        Cli.Result table = Cli.run(fleet.configFile, "version", "add", "--json", "--table", "t2", "--command",
                "CREATE TABLE t2 (id INT PRIMARY KEY)");
        assertThat(table.json().path("rollback").asText()).isEqualTo("DROP TABLE `t2`");

        assertThat(Cli.run(fleet.configFile, "run").exit()).isZero();
        List<String> top = fingerprints(fleet);
        assertThat(top).doesNotContainAnyElementsOf(start);

        Cli.Result down = Cli.run(fleet.configFile, "down", "--to", "0");
        assertThat(down.exit()).as(down.all()).isZero();
        assertThat(down.out()).contains("4 shard(s) pinned at version 0").contains("[3, 2, 1]");
        Cli.Result run = Cli.run(fleet.configFile, "run", "--json");
        assertThat(run.exit()).as(run.all()).isZero();
        assertThat(run.json().path("summary").path("applied").asInt()).isEqualTo(12);
        assertThat(fingerprints(fleet)).isEqualTo(start);

        String cat = "`" + fleet.prefix + "_catalog`";
        assertThat(fleet.column("SELECT DISTINCT version FROM " + cat + ".shards")).containsExactly("0");
        // Each shard went down newest first, one logged run per version, with the rollback as executed.
        assertThat(fleet.column("SELECT GROUP_CONCAT(version ORDER BY startedAt, version DESC) FROM " + cat
                + ".log WHERE down = 1 GROUP BY shardId")).containsOnly("3,2,1");
        assertThat(fleet.column("SELECT executed FROM " + cat + ".log WHERE down = 1 AND shardId = 1 ORDER BY version"))
                .containsExactly("ALTER TABLE `t` DROP COLUMN `c`", "ALTER TABLE `t` MODIFY v VARCHAR(20)", "DROP TABLE `t2`");
        assertThat(Cli.run(fleet.configFile, "status").out()).contains("4 shard(s) pinned");

        // While pinned, a runner does not take them up again; `up` releases them.
        Cli.Result idle = Cli.run(fleet.configFile, "run", "--json");
        assertThat(idle.json().path("summary").path("applied").asInt()).isZero();
        assertThat(Cli.run(fleet.configFile, "up").exit()).isZero();
        assertThat(Cli.run(fleet.configFile, "run").exit()).isZero();
        assertThat(fingerprints(fleet)).isEqualTo(top);

        // A version without a rollback stops the way down before anything changes.
        Cli.Result noRollback = Cli.run(fleet.configFile, "version", "add", "--table", "t", "--command", "MODIFY v VARCHAR(50)");
        assertThat(noRollback.err()).contains("no rollback");
        assertThat(Cli.run(fleet.configFile, "run").exit()).isZero();
        Cli.Result refused = Cli.run(fleet.configFile, "down", "--to", "0");
        assertThat(refused.exit()).isEqualTo(4);
        assertThat(refused.err()).contains("versions [4] have no rollback");
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".shards WHERE targetVersion IS NOT NULL")).isZero();
    }

    @Test
    void upToAVersionBelowTheShardsChecksTheWayDownAsDownDoes() {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "upto", 2);
        fleet.registerAll();
        assertThat(Cli.run(fleet.configFile, "version", "add", "--table", "t", "--command", "ADD COLUMN c INT").exit()).isZero();
        assertThat(Cli.run(fleet.configFile, "version", "add", "--table", "t", "--command", "MODIFY v VARCHAR(50)").exit()).isZero();
        assertThat(Cli.run(fleet.configFile, "run").exit()).isZero();
        String cat = "`" + fleet.prefix + "_catalog`";
        String pinned = "SELECT COUNT(*) FROM " + cat + ".shards WHERE targetVersion IS NOT NULL";

        Cli.Result negative = Cli.run(fleet.configFile, "up", "--to", "-1");
        assertThat(negative.exit()).as(negative.all()).isEqualTo(2);
        assertThat(negative.err()).contains("--to -1 is not a version; give 0 or one that `version list` shows");
        Cli.Result missing = Cli.run(fleet.configFile, "up", "--to", "7");
        assertThat(missing.exit()).as(missing.all()).isEqualTo(2);
        Cli.Result noRollback = Cli.run(fleet.configFile, "up", "--to", "1");
        assertThat(noRollback.exit()).as("going below version 2 needs its rollback").isEqualTo(4);
        assertThat(noRollback.err()).contains("versions [2] have no rollback");
        assertThat(fleet.count(pinned)).isZero();

        Cli.Result atTop = Cli.run(fleet.configFile, "up", "--to", "2");
        assertThat(atTop.exit()).as(atTop.all()).isZero();
        assertThat(fleet.count(pinned)).isEqualTo(2);
        assertThat(Cli.run(fleet.configFile, "up").exit()).isZero();
        assertThat(fleet.count(pinned)).isZero();
    }

    private static List<String> fingerprints(TestFleet fleet) {
        List<String> out = new ArrayList<>();
        for (int shard = 1; shard <= fleet.schemas.size(); shard++) {
            Cli.Result get = Cli.run(fleet.configFile, "schema", "get", "--shard", String.valueOf(shard), "--json");
            assertThat(get.exit()).as(get.all()).isZero();
            out.add(get.json().path("fingerprint").asText());
        }
        return out;
    }
}
