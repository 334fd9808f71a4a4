package io.shardschema.schema;

import com.fasterxml.jackson.databind.JsonNode;
import io.shardschema.testing.Cli;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Drift across a fleet: 100 shards, 3 of them changed by hand in different ways. */
class SchemaValidateTest {

    @Test
    void validateFindsExactlyTheDriftedShardsWithTheirDiffs() throws Exception {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "drift", 100);
        fleet.registerAll();
        drift(fleet, 10, "ALTER TABLE t ADD COLUMN extra INT");
        drift(fleet, 50, "ALTER TABLE t ADD INDEX idx_v (v)");
        drift(fleet, 90, "ALTER TABLE t MODIFY v VARCHAR(30)");
        // Noise that is not drift: other AUTO_INCREMENT counters, an online change's shadow table.
        drift(fleet, 20, "CREATE TABLE _t_new (id INT PRIMARY KEY)");

        Cli.Result text = Cli.run(fleet.configFile, "schema", "validate");
        assertThat(text.exit()).as(text.all()).isEqualTo(3);
        assertThat(text.out()).contains("version 0: 97 of 100 shards have the reference schema")
                .contains("e.g. " + fleet.shardName(1) + ")")
                .contains("drift: 1 shard(s), fingerprint ").contains(": " + fleet.shardName(10) + "\n")
                .contains("--- reference, " + fleet.shardName(1)).contains("+++ " + fleet.shardName(50))
                .contains("3 shard(s) drifted, 0 unreadable");

        Cli.Result json = Cli.run(fleet.configFile, "schema", "validate", "--json", "--parallel", "4");
        assertThat(json.exit()).isEqualTo(3);
        JsonNode report = json.json().path("versions").get(0);
        assertThat(report.path("referenceShards").asInt()).isEqualTo(97);
        assertThat(report.path("referenceExample").asLong()).isEqualTo(1);
        assertNamed(fleet, report.path("referenceExampleShard"), 1);
        assertThat(report.path("referenceSchema").asText()).contains("CREATE TABLE `t`").doesNotContain("_t_new");
        List<Long> outliers = new ArrayList<>();
        List<String> diffs = new ArrayList<>();
        for (JsonNode g : report.path("outliers")) {
            assertThat(g.path("shards")).hasSize(1);
            outliers.add(g.path("shards").get(0).asLong());
            assertThat(g.path("named")).hasSize(1);
            assertNamed(fleet, g.path("named").get(0), g.path("shards").get(0).asInt());
            diffs.add(g.path("diff").asText());
        }
        assertThat(outliers).containsExactly(10L, 50L, 90L);
        assertThat(diffs.get(0)).contains("+  `extra` int(11) DEFAULT NULL,").contains("--- reference, " + fleet.shardName(1))
                .contains("+++ " + fleet.shardName(10));
        assertThat(diffs.get(1)).contains("+  KEY `idx_v` (`v`)");
        assertThat(diffs.get(2)).contains("-  `v` varchar(20) DEFAULT NULL,").contains("+  `v` varchar(30) DEFAULT NULL,");

        Cli.Result get = Cli.run(fleet.configFile, "schema", "get", "--shard", "10", "--table", "t", "--json");
        assertThat(get.exit()).as(get.all()).isZero();
        assertThat(get.json().path("fingerprint").asText()).isEqualTo(outlierFingerprint(report, 0));
        assertThat(get.json().path("tables").path("t").asText()).contains("`extra`");
        assertThat(Cli.run(fleet.configFile, "schema", "get", "--shard", "1", "--table", "nosuch").exit()).isEqualTo(2);
        assertThat(Cli.run(fleet.configFile, "schema", "get", "--shard", "9999").exit()).isEqualTo(2);

        for (int shard : new int[]{10, 50, 90}) {
            fleet.execute("UPDATE `" + fleet.prefix + "_catalog`.shards SET version = 1 WHERE shardId = " + shard);
        }
        Cli.Result byVersion = Cli.run(fleet.configFile, "schema", "validate", "--version", "0");
        assertThat(byVersion.exit()).as(byVersion.all()).isZero();
        assertThat(byVersion.out()).contains("97 of 97 shards").contains("no drift");

        // A shard whose schema is gone cannot be read: named too.
        Cli.Result gone = Cli.run(fleet.configFile, "shard", "add", "--no-check", "--schema", fleet.prefix + "_gone",
                "--dsn", fleet.shardServer.rootDsn(null).toString());
        assertThat(gone.exit()).as(gone.all()).isZero();
        long goneId = Long.parseLong(gone.out().strip());
        String goneName = "shard " + goneId + " (" + fleet.prefix + "_gone@" + fleet.serverKey() + ")";
        Cli.Result unreadable = Cli.run(fleet.configFile, "schema", "validate", "--version", "0");
        assertThat(unreadable.exit()).as(unreadable.all()).isEqualTo(3);
        assertThat(unreadable.out()).contains("unreadable: " + goneName + ": ").contains("0 shard(s) drifted, 1 unreadable");
        JsonNode unreadableJson = Cli.run(fleet.configFile, "schema", "validate", "--version", "0", "--json").json()
                .path("unreadable");
        assertThat(unreadableJson).hasSize(1);
        assertThat(unreadableJson.get(0).path("shard").asLong()).isEqualTo(goneId);
        assertThat(unreadableJson.get(0).path("schema").asText()).isEqualTo(fleet.prefix + "_gone");
        assertThat(unreadableJson.get(0).path("server").asText()).isEqualTo(fleet.serverKey());
    }

    /** A shard named in JSON: {id, schema, server}. */
    private static void assertNamed(TestFleet fleet, JsonNode named, int id) {
        assertThat(named.path("id").asLong()).as(named.toString()).isEqualTo(id);
        assertThat(named.path("schema").asText()).as(named.toString()).isEqualTo(fleet.schemas.get(id - 1));
        assertThat(named.path("server").asText()).as(named.toString()).isEqualTo(fleet.serverKey());
    }

    @Test
    void diffChecksumAndLastVersionOfShards() throws Exception {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "sdiff", 2);
        fleet.registerAll();
        fleet.addVersion("t", "ADD COLUMN c INT");
        assertThat(Cli.run(fleet.configFile, "run").exit()).isZero();
        Cli.Result last = Cli.run(fleet.configFile, "last-version", "--shard", "2", "--json");
        assertThat(last.exit()).as(last.all()).isZero();
        assertThat(last.json().path("version").asInt()).isEqualTo(1);
        assertThat(last.json().path("schema").asText()).isEqualTo(fleet.schemas.get(1));
        assertThat(last.json().path("server").asText()).isEqualTo(fleet.serverKey());
        assertThat(last.json().path("lastRun").path("state").asText()).isEqualTo("applied");

        Cli.Result same = Cli.run(fleet.configFile, "diff", "--shard", "1", "--shard", "2");
        assertThat(same.exit()).as(same.all()).isZero();
        assertThat(same.out()).contains(fleet.shardName(1) + " and " + fleet.shardName(2) + " have the same schema");
        Cli.Result checksum = Cli.run(fleet.configFile, "checksum", "--shard", "1");
        assertThat(checksum.out()).startsWith(fleet.shardName(1) + ": schema fingerprint ");
        assertThat(checksum(fleet, 1)).isEqualTo(checksum(fleet, 2));

        drift(fleet, 2, "ALTER TABLE t ADD INDEX idx_c (c)");
        drift(fleet, 2, "INSERT INTO t VALUES (4, 'd', 4)");
        Cli.Result differ = Cli.run(fleet.configFile, "diff", "--shard", "1", "--shard", "2");
        assertThat(differ.exit()).isEqualTo(3);
        assertThat(differ.out()).contains("--- " + fleet.shardName(1)).contains("+++ " + fleet.shardName(2))
                .contains("+  KEY `idx_c` (`c`)");
        JsonNode differJson = Cli.run(fleet.configFile, "diff", "--shard", "1", "--shard", "2", "--json").json();
        assertThat(differJson.path("to").asText()).isEqualTo(fleet.shardName(2));
        assertNamed(fleet, differJson.path("fromShard"), 1);
        assertNamed(fleet, differJson.path("toShard"), 2);
        JsonNode toVersion = Cli.run(fleet.configFile, "diff", "--shard", "2", "--version", "1", "--json").json();
        assertThat(toVersion.path("fromShard").isNull()).as(toVersion.toString()).isTrue();
        assertNamed(fleet, toVersion.path("toShard"), 2);
        assertThat(checksum(fleet, 1)).isNotEqualTo(checksum(fleet, 2));
        assertThat(Cli.run(fleet.configFile, "diff", "--shard", "1").exit()).isEqualTo(2);
    }

    private static long checksum(TestFleet fleet, int shard) {
        Cli.Result r = Cli.run(fleet.configFile, "checksum", "--shard", String.valueOf(shard), "--json");
        assertThat(r.exit()).as(r.all()).isZero();
        return r.json().path("checksums").path("t").asLong();
    }

    private static String outlierFingerprint(JsonNode report, int i) {
        return report.path("outliers").get(i).path("fingerprint").asText();
    }

    private static void drift(TestFleet fleet, int shard, String ddl) throws Exception {
        try (Connection c = fleet.connect(fleet.schemas.get(shard - 1)); Statement s = c.createStatement()) {
            s.execute(ddl);
        }
    }
}
