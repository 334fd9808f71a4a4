package io.shardschema.catalog;

import io.shardschema.ShardSchemaException;
import io.shardschema.config.DataSources;
import io.shardschema.testing.Cli;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Writes that check something first, then change it: each must fail if what it checked changed meanwhile. */
class CatalogRacesTest {

    @Test
    void twoVersionAddsAtOnceNeverBothChainFromTheSameVersion() throws Exception {
        TestFleet fleet = oneShardAndAVersion("vrace");
        String cat = "`" + fleet.prefix + "_catalog`";
        CompletableFuture<Cli.Result> first;
        CompletableFuture<Cli.Result> second;
        // Hold the turn version adds take, so both have preflighted from version 1 before either may write.
        try (Connection c = DataSources.connect(fleet.catalogDsn); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.executeQuery("SELECT layout FROM " + cat + ".shardschema_layout WHERE id = 1 FOR UPDATE").close();
            first = Cli.start(fleet.configFile, "version", "add", "--table", "t", "--command", "ADD COLUMN b INT");
            second = Cli.start(fleet.configFile, "version", "add", "--table", "t", "--command", "ADD COLUMN c INT");
            await().atMost(Duration.ofSeconds(60)).until(() -> fleet.count("SELECT COUNT(*) FROM"
                    + " information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT layout FROM shardschema_layout%FOR UPDATE'") == 2);
            c.commit();
        }
        List<Cli.Result> results = List.of(first.get(60, TimeUnit.SECONDS), second.get(60, TimeUnit.SECONDS));

        assertThat(results).filteredOn(r -> r.exit() == 0).hasSize(1);
        assertThat(results).filteredOn(r -> r.exit() == ShardSchemaException.REFUSED).singleElement()
                .satisfies(r -> assertThat(r.err()).contains("version 2 was added while this one was preflighted"));
        assertThat(fleet.column("SELECT version FROM " + cat + ".versions ORDER BY version")).containsExactly("1", "2");
    }

    @Test
    void aBaselineIsRefusedWhenTheShardMovedAfterItsSchemaWasChecked() {
        TestFleet fleet = oneShardAndAVersion("brace");
        String cat = "`" + fleet.prefix + "_catalog`";
        try (Catalog catalog = fleet.openCatalog()) {
            long shard = catalog.shards().get(0).id();
            // Checked at version 0; a runner then applied version 1 before the baseline wrote.
            fleet.execute("UPDATE " + cat + ".shards SET version = 1");

            assertThatThrownBy(() -> catalog.baseline(shard, 0, 1, "f".repeat(64)))
                    .isInstanceOf(ShardSchemaException.class).hasMessageContaining("left version 0");
        }
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE state = 'baselined'")).isZero();
    }

    @Test
    void anInterruptedRunOfAnEarlierTaskOfTheVersionIsNotTakenForThisTasks() {
        TestFleet fleet = oneShardAndAVersion("urace");
        String cat = "`" + fleet.prefix + "_catalog`";
        try (Catalog catalog = fleet.openCatalog()) {
            long shard = catalog.shards().get(0).id();
            // Up: run 1 stalled after recording, run 2 found the change in place; then down applied; now up again.
            fleet.execute("INSERT INTO " + cat + ".log (shardId, version, run, state, tableBefore, down) VALUES"
                    + " (" + shard + ", 1, 1, 'stalled', 'CREATE TABLE t0', 0),"
                    + " (" + shard + ", 1, 2, 'already-applied', NULL, 0),"
                    + " (" + shard + ", 1, 3, 'applied', 'CREATE TABLE t1', 1)");

            assertThat(catalog.uncertainRun(shard, 1, 4)).as("run 1 belongs to a task that ended").isEmpty();

            fleet.execute("INSERT INTO " + cat + ".log (shardId, version, run, state, tableBefore, down) VALUES"
                    + " (" + shard + ", 1, 4, 'unknown', 'CREATE TABLE t2', 0)");
            assertThat(catalog.uncertainRun(shard, 1, 5)).hasValueSatisfying(r -> assertThat(r.run()).isEqualTo(4));
        }
    }

    @Test
    void aHeartbeatOfATaskThatEndedOrMovedIsNotAHeldLease() {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "hrace", 1);
        fleet.registerAll();
        String cat = "`" + fleet.prefix + "_catalog`";
        try (Catalog catalog = fleet.openCatalog()) {
            long shard = catalog.shards().get(0).id();
            Lease mine = new Lease("mine#1", shard, fleet.schemas.get(0), "", "", 0, 1, 0, false, 1, null, 0);
            fleet.execute("UPDATE " + cat + ".shards SET state = 'running', task = 'mine#1'");
            assertThat(catalog.heartbeat(mine)).isTrue();

            // Another runner took it over, finished it and let it go: task is NULL, and the lease is not ours.
            fleet.execute("UPDATE " + cat + ".shards SET state = 'ready', task = NULL");
            assertThat(catalog.heartbeat(mine)).isFalse();
            fleet.execute("UPDATE " + cat + ".shards SET state = 'running', task = 'other#7'");
            assertThat(catalog.heartbeat(mine)).isFalse();
        }
    }

    /** A fleet of one registered shard and version 1, which adds a column. */
    private static TestFleet oneShardAndAVersion(String name) {
        TestFleet fleet = TestFleet.create(TestServers.shared(), name, 1);
        fleet.registerAll();
        fleet.addVersion("t", "ADD COLUMN a INT");
        return fleet;
    }
}
