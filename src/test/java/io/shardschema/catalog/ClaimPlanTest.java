package io.shardschema.catalog;

import io.shardschema.config.DataSources;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The claim statements use their indexes at 10,000 shards: no table scan per claim. */
class ClaimPlanTest {

    @Test
    void claimsWalkAnIndexAtTenThousandShards() throws SQLException {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "plan", 0);
        try (Catalog catalog = fleet.openCatalog()) {
            List<String> names = IntStream.range(0, 10_000).mapToObj(i -> "plan_" + i).toList();
            catalog.addShards(names, fleet.server.rootDsn(null), null);
            catalog.addVersion("t", "ADD COLUMN c INT", "sql", null, null);
        }
        try (Connection c = DataSources.connect(fleet.catalogDsn); Statement s = c.createStatement()) {
            s.execute("UPDATE shards SET version = 1 WHERE shardId % 3 = 0");
            s.execute("UPDATE shards SET state = 'running', task = 'x', lastTaskHb = NOW() WHERE shardId % 100 = 1");
            s.execute("ANALYZE TABLE shards");
            Map<String, String> claim = plan(s, Catalog.claimNextSql(2).replaceFirst("\\?", "'t'")
                    .replaceFirst("\\?", "1").replace("?", "'h:1'"));
            assertThat(claim.get("key")).isEqualTo("idx_claim");
            assertThat(claim.get("type")).isEqualTo("range");
            Map<String, String> takeOver = plan(s, Catalog.takeOverSql(0).replaceFirst("\\?", "'t'").replace("?", "60"));
            assertThat(takeOver.get("key")).isEqualTo("idx_state_hb");
            assertThat(takeOver.get("type")).isEqualTo("range");
        }
    }

    private static Map<String, String> plan(Statement s, String update) throws SQLException {
        try (ResultSet rs = s.executeQuery("EXPLAIN " + update)) {
            List<Map<String, String>> rows = new ArrayList<>();
            while (rs.next()) {
                rows.add(Map.of("key", String.valueOf(rs.getString("key")), "type", String.valueOf(rs.getString("type"))));
            }
            assertThat(rows).as(update).hasSize(1);
            return rows.get(0);
        }
    }
}
