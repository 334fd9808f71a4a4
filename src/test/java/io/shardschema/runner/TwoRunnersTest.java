package io.shardschema.runner;

import com.fasterxml.jackson.databind.JsonNode;
import io.shardschema.testing.Cli;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two runners work the same catalog at once: they share the 500 tasks of a version, never both apply one, and
 * together finish sooner than one runner alone does the same amount of work. The changes are latency-bound (each
 * sleeps 50 ms on the shard), so the comparison measures the runners' parallelism rather than the machine's cores.
 */
class TwoRunnersTest {
    private static final int SHARDS = 500;
    private static final String WORKERS = "4";

    @Test
    void twoRunnersApplyEachTaskOnceAndFinishSoonerThanOne() throws Exception {
        TestFleet fleet = TestFleet.create(TestServers.shared(), "two", SHARDS);
        fleet.set("workers", WORKERS);
        // Room on the one server for both runners' workers at once.
        fleet.set("perServerConcurrency", "16");
        fleet.registerAll();
        String cat = "`" + fleet.prefix + "_catalog`";

        // Version 1 by two runners at once (first, so any warm-up favours the single runner that follows).
        int v1 = fleet.addVersion("two1", "CREATE TABLE two1 AS SELECT SLEEP(0.05) AS s");
        long start = System.nanoTime();
        CompletableFuture<Cli.Result> a = Cli.start(fleet.configFile, "run", "--json", "--workers", WORKERS);
        CompletableFuture<Cli.Result> b = Cli.start(fleet.configFile, "run", "--json", "--workers", WORKERS);
        Cli.Result ra = a.get(300, TimeUnit.SECONDS);
        Cli.Result rb = b.get(300, TimeUnit.SECONDS);
        long twoMillis = (System.nanoTime() - start) / 1_000_000;

        assertThat(ra.exit()).as(ra.all()).isZero();
        assertThat(rb.exit()).as(rb.all()).isZero();
        JsonNode sa = ra.json().path("summary");
        JsonNode sb = rb.json().path("summary");
        assertThat(sa.path("runner").asText()).isNotEqualTo(sb.path("runner").asText());
        // Both did a real share of the work, and between them every task exactly once.
        assertThat(sa.path("applied").asInt()).as(ra.out()).isGreaterThan(SHARDS / 5);
        assertThat(sb.path("applied").asInt()).as(rb.out()).isGreaterThan(SHARDS / 5);
        assertThat(sa.path("applied").asInt() + sb.path("applied").asInt()).isEqualTo(SHARDS);
        for (JsonNode s : new JsonNode[]{sa, sb}) {
            assertThat(s.path("alreadyApplied").asInt()).isZero();
            assertThat(s.path("retryLater").asInt()).isZero();
            assertThat(s.path("failed").asInt()).isZero();
            assertThat(s.path("leasesLost").asInt()).isZero();
            assertThat(s.path("takeovers").asInt()).isZero();
        }
        assertAppliedOnce(fleet, cat, v1, "two1");
        assertThat(fleet.count("SELECT COUNT(DISTINCT runner) FROM " + cat + ".log WHERE version = " + v1)).isEqualTo(2);

        // Version 2, the same amount of the same work, by one runner with the same workers.
        int v2 = fleet.addVersion("two2", "CREATE TABLE two2 AS SELECT SLEEP(0.05) AS s");
        start = System.nanoTime();
        Cli.Result one = Cli.run(fleet.configFile, "run", "--json", "--workers", WORKERS);
        long oneMillis = (System.nanoTime() - start) / 1_000_000;

        assertThat(one.exit()).as(one.all()).isZero();
        assertThat(one.json().path("summary").path("applied").asInt()).isEqualTo(SHARDS);
        assertAppliedOnce(fleet, cat, v2, "two2");

        System.out.printf("500 tasks: two runners %d ms, one runner %d ms%n", twoMillis, oneMillis);
        assertThat(twoMillis).as("two runners took %d ms, one runner %d ms", twoMillis, oneMillis)
                .isLessThan(oneMillis * 4 / 5);
    }

    /** One applied run per shard of the version, nothing else in the log, and the table on every shard. */
    private static void assertAppliedOnce(TestFleet fleet, String cat, int version, String table) {
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE version = " + version)).isEqualTo(SHARDS);
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat + ".log WHERE version = " + version
                + " AND state = 'applied' AND run = 1 AND err IS NULL")).isEqualTo(SHARDS);
        assertThat(fleet.count("SELECT COUNT(DISTINCT shardId) FROM " + cat + ".log WHERE version = " + version))
                .isEqualTo(SHARDS);
        assertThat(fleet.column("SELECT DISTINCT version FROM " + cat + ".shards")).containsExactly(String.valueOf(version));
        assertThat(fleet.column("SELECT DISTINCT state FROM " + cat + ".shards")).containsExactly("ready");
        String like = "'" + fleet.prefix + "\\_s%'";
        assertThat(fleet.count("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA LIKE " + like
                + " AND TABLE_NAME = '" + table + "'")).isEqualTo(SHARDS);
    }
}
