package io.shardschema.change;

import com.fasterxml.jackson.databind.JsonNode;
import io.shardschema.testing.Cli;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Trash is stamped and aged by the shard server's clock alone. The shard's sessions run with a clock 10 days ahead
 * of the runner's and the purging host's (the session variable {@code timestamp}, set through the shard's DSN).
 */
class PendingDropsTest {
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMddHHmmss").withZone(ZoneOffset.UTC);

    @Test
    void tablesAreStampedAndAgedByTheShardServersClock() {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "trashclock", 1);
        String schema = fleet.schemas.get(0);
        String pending = fleet.prefix + "_pending";
        Instant serverNow = Instant.now().plus(Duration.ofDays(10)).truncatedTo(ChronoUnit.SECONDS);
        Cli.Result add = Cli.run(fleet.configFile, "shard", "add", "--schema", schema, "--dsn", "root@tcp(127.0.0.1:"
                + fleet.shardServer.port() + ")/?sessionVariables=timestamp=" + serverNow.getEpochSecond());
        assertThat(add.exit()).as(add.all()).isZero();
        assertThat(Cli.run(fleet.configFile, "version", "add", "--type", "pt-osc", "--table", "t", "--command",
                "DROP TABLE t").exit()).isZero();
        Cli.Result run = Cli.run(fleet.configFile, "run");
        assertThat(run.exit()).as(run.all()).isZero();
        String moved = STAMP.format(serverNow) + "_" + schema + "_t";
        assertThat(fleet.shardColumn("SHOW TABLES FROM `" + pending + "`")).as("stamped by the server")
                .containsExactly(moved);

        // A table moved 10 days ago by the server's clock: just now by the runner's and this host's.
        String old = STAMP.format(Instant.now()) + "_" + schema + "_old";
        fleet.execute("CREATE TABLE `" + pending + "`.`" + old + "` (id INT)");
        JsonNode list = Cli.run(fleet.configFile, "trash", "list", "--json").json().path("tables");
        assertThat(list).hasSize(2);
        assertThat(list.get(0).path("table").asText()).isEqualTo(old);
        assertThat(list.get(0).path("ageSeconds").asLong()).isBetween(Duration.ofDays(10).minusMinutes(5).toSeconds(),
                Duration.ofDays(10).toSeconds());
        assertThat(list.get(1).path("ageSeconds").asLong()).isZero();

        Cli.Result purge = Cli.run(fleet.configFile, "trash", "purge", "--older-than", "7d");
        assertThat(purge.exit()).as(purge.all()).isZero();
        assertThat(purge.out()).contains("1 tables dropped");
        assertThat(fleet.shardColumn("SHOW TABLES FROM `" + pending + "`")).containsExactly(moved);
    }
}
