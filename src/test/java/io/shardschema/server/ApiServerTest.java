package io.shardschema.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shardschema.testing.Cli;
import io.shardschema.testing.RunnerProcess;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The HTTP API of `shardschema serve`, over real HTTP against a real catalog: each server is a child JVM. One
 * fleet (4 shards, with a token) serves most cases, in order: the endpoint index, a version added over HTTP and
 * rolled out, what the reads and /metrics then show, every kind of bad request (each a JSON error with the right
 * status and no stack trace), a change the command refuses, and the throttle. Two more servers check the token
 * rules: one without a configured token (no change or heavy read at all, other reads open), one with closed reads
 * (where a shard is also registered with a password, which no answer may show).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ApiServerTest {
    private static final String TOKEN = "api-test-token-7f3a9c";
    private static final String CLOSED_TOKEN = "closed-reads-token-41d2";
    private static final String PASSWORD = "Pw-never-shown-8812";
    private static final int SHARDS = 4;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    private static TestFleet fleet;
    private static TestFleet readOnlyFleet;
    private static TestFleet closedFleet;
    private static final List<RunnerProcess> servers = new ArrayList<>();
    private static String base;
    private static String readOnlyBase;
    private static String closedBase;
    private static String passwordUser;

    @BeforeAll
    static void startServers() {
        fleet = TestFleet.create(TestServers.shared(), "api", SHARDS);
        fleet.set("apiToken", TOKEN);
        fleet.registerAll();
        readOnlyFleet = TestFleet.create(TestServers.shared(), "apiro", 1);
        readOnlyFleet.registerAll();
        closedFleet = TestFleet.create(TestServers.shared(), "apiclosed", 1);
        closedFleet.set("apiToken", CLOSED_TOKEN);
        closedFleet.set("apiOpenReads", "false");
        // The three JVMs start at once; each prints its URL when it listens.
        RunnerProcess main = serve(fleet);
        RunnerProcess readOnly = serve(readOnlyFleet);
        RunnerProcess closed = serve(closedFleet);
        base = main.awaitServing();
        readOnlyBase = readOnly.awaitServing();
        closedBase = closed.awaitServing();
    }

    @AfterAll
    static void stopServers() {
        servers.forEach(RunnerProcess::kill);
        if (passwordUser != null) {
            closedFleet.execute("DROP USER IF EXISTS '" + passwordUser + "'@'127.0.0.1'");
        }
    }

    @Test
    @Order(1)
    void theIndexListsEveryEndpointAndStatusMatchesTheCommandLine() {
        Response index = get(base, "/api/v1/", null);
        assertThat(index.status).isEqualTo(200);
        assertThat(index.headers.firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
        List<String> endpoints = new ArrayList<>();
        index.json().path("endpoints").forEach(e -> endpoints.add(e.path("method").asText() + " " + e.path("path").asText()));
        assertThat(endpoints).hasSize(ApiRoutes.ROUTES.size()).contains("GET /api/v1/status", "GET /api/v1/shards",
                "GET /api/v1/shards/{id}/runs", "POST /api/v1/versions", "POST /api/v1/versions/{version}/approve",
                "POST /api/v1/throttle", "DELETE /api/v1/shards/{id}", "POST /api/v1/down");
        List<String> heavy = new ArrayList<>();
        for (JsonNode e : index.json().path("endpoints")) {
            assertThat(e.path("description").asText()).as(e.toString()).isNotBlank();
            // Changes and heavy reads need the token; other reads are open (apiOpenReads=true).
            assertThat(e.path("needsToken").asBoolean()).as(e.toString())
                    .isEqualTo(!e.path("method").asText().equals("GET") || e.path("heavy").asBoolean());
            if (e.path("heavy").asBoolean()) {
                heavy.add(e.path("method").asText() + " " + e.path("path").asText());
            }
        }
        assertThat(heavy).containsExactlyInAnyOrder("GET /api/v1/shards/{id}/schema", "GET /api/v1/shards/{id}/diff",
                "GET /api/v1/shards/{id}/checksum", "GET /api/v1/shards/{id}/replicas",
                "GET /api/v1/drift", "GET /api/v1/trash", "POST /api/v1/versions", "POST /api/v1/preflight",
                "POST /api/v1/trash/purge");
        assertThat(get(base, "/api/v1", null).json()).isEqualTo(index.json());

        Response status = get(base, "/api/v1/status", null);
        assertThat(status.status).isEqualTo(200);
        assertThat(status.json().path("shards").asInt()).isEqualTo(SHARDS);
        assertThat(status.json().path("versions")).isEmpty();
        assertThat(status.headers.firstValue("X-ShardSchema-Exit-Code")).hasValue("0");
    }

    @Test
    @Order(2)
    void aVersionAddedOverHttpRollsOutAndEveryReadAndTheMetricsShowIt() {
        Response added = post(base, "/api/v1/versions", "{\"table\":\"t\",\"command\":\"ADD COLUMN z INT\",\"type\":\"sql\"}", TOKEN);
        assertThat(added.status).as(added.body).isEqualTo(201);
        assertThat(added.json().path("version").asInt()).isEqualTo(1);
        assertThat(added.json().path("table").asText()).isEqualTo("t");
        assertThat(added.json().path("rollback").asText()).isEqualTo("DROP COLUMN `z`");

        Cli.Result list = Cli.run(fleet.configFile, "version", "list", "--json");
        assertThat(list.exit()).as(list.all()).isZero();
        assertThat(list.json().path("versions")).singleElement().satisfies(v -> {
            assertThat(v.path("number").asInt()).isEqualTo(1);
            assertThat(v.path("command").asText()).contains("ADD COLUMN z INT");
        });
        Response versions = get(base, "/api/v1/versions", null);
        assertThat(versions.status).isEqualTo(200);
        assertThat(versions.json()).isEqualTo(list.json());
        assertStatusMatchesTheCommandLine(1, "pending", SHARDS);

        Cli.Result run = Cli.run(fleet.configFile, "run");
        assertThat(run.exit()).as(run.all()).isZero();
        assertStatusMatchesTheCommandLine(1, "done", SHARDS);

        Response shards = get(base, "/api/v1/shards", null);
        assertThat(shards.status).isEqualTo(200);
        assertThat(shards.json().path("total").asInt()).isEqualTo(SHARDS);
        assertThat(shards.json().path("shards")).hasSize(SHARDS).allSatisfy(s -> {
            assertThat(s.path("version").asInt()).as(s.toString()).isEqualTo(1);
            assertThat(s.path("state").asText()).as(s.toString()).isEqualTo("ready");
            assertThat(s.path("lastRunState").asText()).as(s.toString()).isEqualTo("applied");
        });

        Response page = get(base, "/api/v1/shards?state=ready&offset=1&limit=2", null);
        assertThat(page.status).as(page.body).isEqualTo(200);
        assertThat(page.json().path("total").asInt()).isEqualTo(SHARDS);
        assertThat(page.json().path("offset").asInt()).isEqualTo(1);
        assertThat(ids(page.json().path("shards"))).containsExactly(2L, 3L);
        assertThat(page.json().path("shards").get(0).path("schemaName").asText()).isEqualTo(fleet.schemas.get(1));
        Response failedPage = get(base, "/api/v1/shards?state=failed", null);
        assertThat(failedPage.json().path("total").asInt()).isZero();
        assertThat(failedPage.json().path("shards")).isEmpty();

        Response one = get(base, "/api/v1/shards/3", null);
        assertThat(one.status).isEqualTo(200);
        assertThat(one.json().path("version").asInt()).isEqualTo(1);
        assertThat(one.json().path("schema").asText()).isEqualTo(fleet.schemas.get(2));
        assertThat(one.json().path("server").asText()).isEqualTo(fleet.serverKey());
        assertThat(one.json().path("lastRun").path("state").asText()).isEqualTo("applied");

        Response runs = get(base, "/api/v1/shards/2/runs", null);
        assertThat(runs.status).isEqualTo(200);
        assertThat(runs.json().path("runs")).singleElement().satisfies(r -> {
            assertThat(r.path("shardId").asLong()).isEqualTo(2);
            assertThat(r.path("schema").asText()).isEqualTo(fleet.schemas.get(1));
            assertThat(r.path("server").asText()).isEqualTo(fleet.serverKey());
            assertThat(r.path("version").asInt()).isEqualTo(1);
            assertThat(r.path("state").asText()).isEqualTo("applied");
            assertThat(r.path("executed").asText()).contains("ADD COLUMN z INT");
        });
        assertThat(get(base, "/api/v1/runs?version=1", null).json().path("runs")).hasSize(SHARDS);
        Response drift = get(base, "/api/v1/drift", TOKEN);
        assertThat(drift.status).as(drift.body).isEqualTo(200);
        JsonNode example = drift.json().path("versions").get(0).path("referenceExampleShard");
        assertThat(example.path("id").asLong()).isEqualTo(1);
        assertThat(example.path("schema").asText()).isEqualTo(fleet.schemas.get(0));
        assertThat(example.path("server").asText()).isEqualTo(fleet.serverKey());

        Response metrics = get(base, "/metrics", null);
        assertThat(metrics.status).isEqualTo(200);
        assertThat(metrics.headers.firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
        assertThat(metrics.body).containsPattern("(?m)^shardschema_tasks\\{state=\"done\",version=\"1\"} 4(\\.0)?$")
                .containsPattern("(?m)^shardschema_tasks\\{state=\"pending\",version=\"1\"} 0(\\.0)?$")
                .containsPattern("(?m)^shardschema_fleet\\{figure=\"shards\"} 4(\\.0)?$");
        // Runs that ended in the last 2 s are held back (a run's row may still be committing); then counted once.
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                assertThat(get(base, "/metrics", null).body)
                        .containsPattern("(?m)^shardschema_runs_total\\{result=\"applied\"} 4(\\.0)?$"));
        String later = get(base, "/metrics", null).body;
        assertThat(later).as("a second scrape does not count the runs again")
                .containsPattern("(?m)^shardschema_runs_total\\{result=\"applied\"} 4(\\.0)?$")
                .containsPattern("(?m)^shardschema_run_duration_seconds_bucket\\{result=\"applied\",le=\"60\\.0\"} 4(\\.0)?$")
                .containsPattern("(?m)^shardschema_run_duration_seconds_bucket\\{result=\"applied\",le=\"\\+Inf\"} 4(\\.0)?$")
                .containsPattern("(?m)^shardschema_run_duration_seconds_count\\{result=\"applied\"} 4(\\.0)?$");
    }

    @Test
    @Order(3)
    void aMissingOrWrongTokenIs401WithAChallenge() {
        String body = "{\"action\":\"pause\"}";
        Response missing = post(base, "/api/v1/throttle", body, null);
        assertError(missing, 401, "missing token");
        assertThat(missing.headers.firstValue("WWW-Authenticate")).hasValue("Bearer");
        assertError(send(base, "POST", "/api/v1/throttle", body, "Basic " + TOKEN), 401, "missing token");
        Response wrong = post(base, "/api/v1/throttle", body, "not-the-token");
        assertError(wrong, 401, "wrong token");
        assertThat(wrong.headers.firstValue("WWW-Authenticate")).hasValue("Bearer");
        assertError(post(base, "/api/v1/throttle", body, TOKEN + "x"), 401, "wrong token");
        assertError(post(base, "/api/v1/throttle", body, TOKEN.substring(0, TOKEN.length() - 1)), 401, "wrong token");
        assertError(post(base, "/api/v1/throttle", body, ""), 401, "");
        assertError(send(base, "DELETE", "/api/v1/shards/1", null, null), 401, "missing token");
        for (String heavyRead : List.of("/api/v1/drift", "/api/v1/shards/1/checksum", "/api/v1/shards/1/replicas",
                "/api/v1/trash", "/api/v1/shards/1/schema", "/api/v1/shards/1/diff?with=2")) {
            assertError(get(base, heavyRead, null), 401, "missing token");
            assertError(get(base, heavyRead, "not-the-token"), 401, "wrong token");
        }
        assertThat(Files.exists(fleet.dir.resolve("throttle"))).as("no refused request paused anything").isFalse();
        assertThat(get(base, "/api/v1/shards", null).json().path("total").asInt()).isEqualTo(SHARDS);
    }

    @Test
    @Order(4)
    void malformedBodiesAndFieldsAre400NamingTheProblem() {
        assertError(post(base, "/api/v1/versions", "{\"table\": \"t\", \"command\": ", TOKEN), 400, "malformed JSON body");
        assertError(post(base, "/api/v1/versions", "{\"table\":\"t\"} {}", TOKEN), 400, "malformed JSON body");
        assertError(post(base, "/api/v1/versions", "{\"table\":\"t\",\"table\":\"u\",\"command\":\"ADD COLUMN q INT\"}", TOKEN),
                400, "malformed JSON body");
        assertError(post(base, "/api/v1/versions", "[{\"table\":\"t\",\"command\":\"ADD COLUMN q INT\"}]", TOKEN),
                400, "must be a JSON object");
        assertError(post(base, "/api/v1/versions", "\"ADD COLUMN q INT\"", TOKEN), 400, "must be a JSON object");
        Response unknown = post(base, "/api/v1/versions", "{\"table\":\"t\",\"command\":\"ADD COLUMN q INT\",\"comand\":\"x\"}", TOKEN);
        assertError(unknown, 400, "unknown field comand");
        assertThat(unknown.error()).contains("known: ").contains("command");
        assertError(post(base, "/api/v1/throttle", "{\"action\":\"pause\",\"why\":\"load\"}", TOKEN), 400, "unknown field why");
        assertError(post(base, "/api/v1/versions", "{\"table\":\"t\",\"command\":\"ADD COLUMN q INT\",\"force\":\"yes\"}", TOKEN),
                400, "field 'force' must be true or false");
        assertError(post(base, "/api/v1/versions", "{\"table\":\"t\",\"command\":\"ADD COLUMN q INT\",\"shard\":\"abc\"}", TOKEN),
                400, "field 'shard' must be a whole number");
        assertError(post(base, "/api/v1/versions", "{\"table\":\"t\",\"command\":\"ADD COLUMN q INT\",\"shard\":1.5}", TOKEN),
                400, "field 'shard' must be a whole number");
        assertError(post(base, "/api/v1/versions", "{\"table\":\"t\",\"command\":\"ADD COLUMN q INT\",\"shard\":\"1\"}", TOKEN),
                400, "field 'shard' must be a whole number");
        assertError(post(base, "/api/v1/versions", "{\"table\":7,\"command\":\"ADD COLUMN q INT\"}", TOKEN),
                400, "field 'table' must be a string");
        assertError(post(base, "/api/v1/retry", "{\"shards\":[1,\"two\"]}", TOKEN), 400, "field 'shards' must be an array of whole numbers");
        assertError(post(base, "/api/v1/versions", "{\"table\":\"t\"}", TOKEN), 400, "field 'command' is required");
        assertError(post(base, "/api/v1/versions", "", TOKEN), 400, "field 'table' is required");
        assertError(post(base, "/api/v1/down", "{}", TOKEN), 400, "field 'to' is required");
        assertError(post(base, "/api/v1/versions", "{\"table\":\"t\",\"command\":\"ADD COLUMN q INT\",\"type\":\"osc\"}", TOKEN),
                400, "--type osc is unknown");

        StringBuilder huge = new StringBuilder("{\"table\":\"t\",\"command\":\"ADD COLUMN q INT\",\"rollback\":\"");
        huge.append("x".repeat((1 << 20) + 10)).append("\"}");
        assertError(post(base, "/api/v1/versions", huge.toString(), TOKEN), 413, "larger than 1048576 bytes");

        assertError(post(base, "/api/v1/versions", "{\"table\":\"t --force\",\"command\":\"ADD COLUMN q INT\"}", TOKEN),
                400, "invalid table name 't --force'");
        assertThat(Cli.run(fleet.configFile, "version", "list", "--json").json().path("versions"))
                .as("no refused request registered a version").hasSize(1);
    }

    @Test
    @Order(5)
    void aValueThatLooksLikeAnOptionStaysAValue() {
        // The command's own check refuses the table name; --force is neither taken as the flag nor refused by the
        // option parser. (Args writes --table=--force, but picocli refuses an attached value that is an option name
        // unless allowOptionsAsOptionParameters is on: the API then answers "Expected parameter for option '--table'".)
        Response table = post(base, "/api/v1/versions", "{\"table\":\"--force\",\"command\":\"ADD COLUMN q INT\"}", TOKEN);
        Response command = post(base, "/api/v1/versions", "{\"table\":\"t\",\"command\":\"--no-preflight\"}", TOKEN);
        assertThat(Cli.run(fleet.configFile, "version", "list", "--json").json().path("versions"))
                .as("neither registered a version").hasSize(1);
        assertThat(command.status).as(command.body).isEqualTo(400);
        assertJsonError(command);
        assertThat(command.error()).as("the value reached the command as the DDL").doesNotContain("Expected parameter");
        assertError(table, 400, "invalid table name '--force'");
    }

    @Test
    @Order(6)
    void malformedDdlIsRefusedWithTheServersParseError() {
        Response bad = post(base, "/api/v1/versions", "{\"table\":\"t\",\"command\":\"ADD COLUMN\"}", TOKEN);
        assertError(bad, 400, "You have an error in your SQL syntax");
        assertThat(bad.json().path("exitCode").asInt()).isEqualTo(2);
        assertThat(bad.headers.firstValue("X-ShardSchema-Exit-Code")).hasValue("2");
        Cli.Result cli = Cli.run(fleet.configFile, "version", "add", "--table", "t", "--command", "ADD COLUMN");
        assertThat(cli.exit()).isEqualTo(2);
        assertThat(cli.err()).contains(bad.error());
    }

    @Test
    @Order(7)
    void unknownIdsEndpointsMethodsAndQueryParameters() {
        assertError(get(base, "/api/v1/shards/9999", null), 404, "unknown shard id 9999");
        assertError(get(base, "/api/v1/shards/9999/runs", null), 404, "unknown shard id 9999");
        assertError(post(base, "/api/v1/shards/9999/retry", "", TOKEN), 404, "unknown shard id 9999");
        assertError(send(base, "DELETE", "/api/v1/shards/9999", null, "Bearer " + TOKEN), 404, "unknown shard id 9999");
        assertError(post(base, "/api/v1/versions/99/approve", "", TOKEN), 404, "unknown version 99");
        assertError(post(base, "/api/v1/versions/99/cutover", "{}", TOKEN), 404, "unknown version 99");
        assertError(get(base, "/api/v1/nothing-here", null), 404, "no endpoint GET /api/v1/nothing-here");
        assertError(get(base, "/api/v1/shards/abc", null), 404, "no endpoint");
        assertError(get(base, "/api/v2/status", null), 404, "");

        Response put = send(base, "PUT", "/api/v1/status", "{}", "Bearer " + TOKEN);
        assertError(put, 405, "PUT is not allowed on /api/v1/status");
        assertThat(put.error()).contains("allowed: GET");
        assertThat(put.headers.firstValue("Allow")).hasValue("GET");
        assertError(send(base, "GET", "/api/v1/throttle", null, null), 405, "allowed: POST");
        assertError(send(base, "POST", "/metrics", "", "Bearer " + TOKEN), 405, "only GET");

        assertError(get(base, "/api/v1/shards?limit=abc", null), 400, "parameter 'limit' must be a whole number");
        assertError(get(base, "/api/v1/shards?state=weird", null), 400, "--state weird is unknown");
        assertError(get(base, "/api/v1/shards?offset=-1", null), 400, "at least 0");
        assertError(get(base, "/api/v1/shards?bogus=1", null), 400, "unknown parameter bogus");
        assertError(get(base, "/api/v1/status?limit=5", null), 400, "unknown parameter limit");
        assertError(get(base, "/api/v1/shards?limit=1&limit=2", null), 400, "parameter 'limit' is given twice");
        assertError(get(base, "/api/v1/runs?shard=1%2C2", null), 400, "parameter 'shard' must be a whole number");
    }

    @Test
    @Order(8)
    void aChangeTheCommandRefusesIs409AndChangesNothing() {
        Cli.Result noRollback = Cli.run(fleet.configFile, "version", "add", "--table", "t", "--command", "MODIFY v VARCHAR(50)");
        assertThat(noRollback.exit()).as(noRollback.all()).isZero();
        assertThat(noRollback.err()).contains("no rollback");
        Cli.Result run = Cli.run(fleet.configFile, "run");
        assertThat(run.exit()).as(run.all()).isZero();
        Response down = post(base, "/api/v1/down", "{\"to\":0}", TOKEN);
        assertError(down, 409, "versions [2] have no rollback");
        assertThat(down.json().path("exitCode").asInt()).isEqualTo(4);
        assertThat(fleet.count("SELECT COUNT(*) FROM `" + fleet.prefix + "_catalog`.shards WHERE targetVersion IS NOT NULL"))
                .as("nothing was pinned").isZero();

        // A rollback that does not restore the table is refused too, and registers nothing.
        Response badRollback = post(base, "/api/v1/versions",
                "{\"table\":\"t\",\"command\":\"MODIFY v VARCHAR(60)\",\"rollback\":\"MODIFY v VARCHAR(30)\"}", TOKEN);
        assertError(badRollback, 409, "does not bring the tables back");
        assertThat(get(base, "/api/v1/versions", null).json().path("versions")).hasSize(2);

        // Retrying a shard that has not failed is a usage error of the command.
        assertError(post(base, "/api/v1/shards/1/retry", "", TOKEN), 400, "shard 1 is not failed");
    }

    @Test
    @Order(9)
    void theThrottleEndpointWritesTheThrottlingFile() throws IOException {
        var file = fleet.dir.resolve("throttle");
        try {
            Response pause = post(base, "/api/v1/throttle", "{\"action\":\"pause\"}", TOKEN);
            assertThat(pause.status).as(pause.body).isEqualTo(200);
            assertThat(pause.json().path("file").asText()).isEqualTo(file.toString());
            assertThat(Files.readString(file).strip()).isEqualTo("pause");
            JsonNode paused = get(base, "/api/v1/status", null).json().path("throttleState");
            assertThat(paused.path("paused").asBoolean()).as(paused.toString()).isTrue();
            assertThat(get(base, "/api/v1/status", null).json().path("throttle").asText()).as("as before: a text")
                    .isEqualTo(paused.path("description").asText()).isNotBlank();
            assertThat(get(base, "/metrics", null).body).containsPattern("(?m)^shardschema_fleet\\{figure=\"paused\"} 1(\\.0)?$");

            // The scheme's name is case-insensitive.
            Response resume = send(base, "POST", "/api/v1/throttle", "{\"action\":\"resume\"}", "bearer " + TOKEN);
            assertThat(resume.status).as(resume.body).isEqualTo(200);
            assertThat(file).doesNotExist();
            assertThat(get(base, "/api/v1/status", null).json().path("throttleState").path("paused").asBoolean()).isFalse();

            Response workers = post(base, "/api/v1/throttle", "{\"action\":\"workers\",\"workers\":2}", TOKEN);
            assertThat(workers.status).as(workers.body).isEqualTo(200);
            assertThat(Files.readString(file).strip()).isEqualTo("workers 2");
            JsonNode limited = get(base, "/api/v1/status", null).json().path("throttleState");
            assertThat(limited.path("paused").asBoolean()).isFalse();
            assertThat(limited.path("workerLimit").asInt()).isEqualTo(2);

            assertError(post(base, "/api/v1/throttle", "{\"action\":\"sideways\"}", TOKEN), 400, "must be pause, resume or workers");
            assertError(post(base, "/api/v1/throttle", "{\"action\":\"workers\"}", TOKEN), 400, "field 'workers'");
            assertError(post(base, "/api/v1/throttle", "{\"action\":\"pause\",\"workers\":3}", TOKEN), 400, "field 'workers'");
            assertError(post(base, "/api/v1/throttle", "{\"action\":\"workers\",\"workers\":0}", TOKEN), 400, "at least 1");
            assertError(post(base, "/api/v1/throttle", "{}", TOKEN), 400, "field 'action' is required");
            assertThat(Files.readString(file).strip()).as("refused requests left the limit alone").isEqualTo("workers 2");
        } finally {
            Cli.run(fleet.configFile, "throttle", "resume");
        }
    }

    @Test
    @Order(10)
    void withoutAConfiguredTokenEveryChangeAndHeavyReadIs403AndOtherReadsStayOpen() {
        for (String[] change : new String[][]{{"POST", "/api/v1/throttle", "{\"action\":\"pause\"}"},
                {"POST", "/api/v1/versions", "{\"table\":\"t\",\"command\":\"ADD COLUMN z INT\"}"},
                {"DELETE", "/api/v1/shards/1", null}, {"POST", "/api/v1/shards/1/retry", ""}}) {
            assertError(send(readOnlyBase, change[0], change[1], change[2], null), 403, "no apiToken is configured");
            assertError(send(readOnlyBase, change[0], change[1], change[2], "Bearer anything"), 403, "no apiToken is configured");
        }
        assertThat(readOnlyFleet.dir.resolve("throttle")).doesNotExist();
        assertError(get(readOnlyBase, "/api/v1/drift", null), 403, "heavy reads over HTTP are disabled");
        assertError(get(readOnlyBase, "/api/v1/shards/1/checksum", "anything"), 403, "heavy reads over HTTP are disabled");
        Response status = get(readOnlyBase, "/api/v1/status", null);
        assertThat(status.status).isEqualTo(200);
        assertThat(status.json().path("shards").asInt()).isEqualTo(1);
        assertThat(status.json().path("versions")).isEmpty();
        assertThat(get(readOnlyBase, "/api/v1/shards", null).status).isEqualTo(200);
        assertThat(get(readOnlyBase, "/metrics", null).status).isEqualTo(200);
    }

    @Test
    @Order(11)
    void withClosedReadsEveryReadNeedsTheToken() {
        for (String path : List.of("/api/v1/status", "/metrics", "/api/v1/shards")) {
            Response open = get(closedBase, path, null);
            assertError(open, 401, "missing token");
            assertThat(open.headers.firstValue("WWW-Authenticate")).hasValue("Bearer");
            assertError(get(closedBase, path, "wrong"), 401, "wrong token");
            assertThat(get(closedBase, path, CLOSED_TOKEN).status).as(path).isEqualTo(200);
        }
        assertThat(get(closedBase, "/api/v1/status", CLOSED_TOKEN).json().path("shards").asInt()).isZero();
        assertThat(get(closedBase, "/metrics", CLOSED_TOKEN).body).contains("shardschema_fleet");
    }

    @Test
    @Order(11)
    void otherSitesPagesAndOtherHostNamesAreRefused() throws Exception {
        // DNS rebinding: a page whose own name resolves to 127.0.0.1 sends that name as Host.
        java.net.URI uri = URI.create(base);
        try (java.net.Socket socket = new java.net.Socket(uri.getHost(), uri.getPort())) {
            socket.getOutputStream().write(("GET /api/v1/status HTTP/1.1\r\nHost: rebind.example:" + uri.getPort()
                    + "\r\nConnection: close\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String answer = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(answer).startsWith("HTTP/1.1 403").contains("answers requests for its own addresses and names only")
                    .doesNotContain("\"versions\"");
        }
        HttpRequest crossSite = HttpRequest.newBuilder(URI.create(base + "/api/v1/drift")).header("Sec-Fetch-Site", "cross-site")
                .timeout(Duration.ofSeconds(30)).build();
        HttpResponse<String> refused = HTTP.send(crossSite, HttpResponse.BodyHandlers.ofString());
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(403);
        assertThat(refused.body()).contains("other sites");
        HttpRequest sameOrigin = HttpRequest.newBuilder(URI.create(base + "/api/v1/status")).header("Sec-Fetch-Site", "same-origin")
                .timeout(Duration.ofSeconds(30)).build();
        assertThat(HTTP.send(sameOrigin, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        assertError(get(base, "/api/v1/drift?parallel=100000", TOKEN), 400, "--parallel must be in 1..256");
    }

    @Test
    @Order(12)
    void aShardsPasswordNeverAppearsInAnAnswer() {
        String schema = closedFleet.schemas.get(0);
        passwordUser = closedFleet.prefix + "_u";
        closedFleet.execute("CREATE USER '" + passwordUser + "'@'127.0.0.1' IDENTIFIED BY '" + PASSWORD + "'");
        closedFleet.execute("GRANT SELECT ON `" + schema + "`.* TO '" + passwordUser + "'@'127.0.0.1'");
        int port = closedFleet.shardServer.port();
        String dsn = passwordUser + ":" + PASSWORD + "@tcp(127.0.0.1:" + port + ")/" + schema;
        List<Response> answers = new ArrayList<>();

        // Checked with the DSN's password (the schema is really there), stored without it.
        Response checked = post(closedBase, "/api/v1/shards", "{\"dsn\":\"" + dsn + "\"}", CLOSED_TOKEN);
        answers.add(checked);
        assertThat(checked.status).as(checked.body).isEqualTo(201);
        assertThat(checked.json().path("schema").asText()).isEqualTo(schema);
        assertThat(checked.json().path("dsn").asText()).contains(passwordUser).contains(String.valueOf(port));
        // Not checked: the schema need not exist yet.
        Response unchecked = post(closedBase, "/api/v1/shards", "{\"dsn\":\"jdbc:mariadb://127.0.0.1:" + port + "/"
                + closedFleet.prefix + "_later?user=" + passwordUser + "&password=" + PASSWORD + "\",\"noCheck\":true,"
                + "\"replicas\":[\"" + passwordUser + ":" + PASSWORD + "@tcp(127.0.0.2:" + port + ")/\"]}", CLOSED_TOKEN);
        answers.add(unchecked);
        assertThat(unchecked.status).as(unchecked.body).isEqualTo(201);
        // A failed check (wrong schema, then a wrong password) is refused without echoing the DSN's password.
        Response missing = post(closedBase, "/api/v1/shards", "{\"dsn\":\"" + passwordUser + ":" + PASSWORD
                + "@tcp(127.0.0.1:" + port + ")/no_such_schema_here\"}", CLOSED_TOKEN);
        answers.add(missing);
        assertError(missing, 400, "does not exist");
        Response denied = post(closedBase, "/api/v1/shards", "{\"dsn\":\"" + passwordUser + ":" + PASSWORD
                + "x@tcp(127.0.0.1:" + port + ")/" + schema + "\"}", CLOSED_TOKEN);
        answers.add(denied);
        assertThat(denied.status).as(denied.body).isEqualTo(502);
        assertJsonError(denied);
        assertThat(denied.error()).contains("Access denied").contains(passwordUser + ":***@tcp(");
        Response malformed = post(closedBase, "/api/v1/shards", "{\"dsn\":\"" + passwordUser + ":" + PASSWORD
                + "@tcp(127.0.0.1:notaport)/" + schema + "\"}", CLOSED_TOKEN);
        answers.add(malformed);
        assertError(malformed, 400, "malformed DSN");

        Response shards = get(closedBase, "/api/v1/shards", CLOSED_TOKEN);
        answers.add(shards);
        assertThat(shards.json().path("total").asInt()).isEqualTo(2);
        assertThat(shards.json().path("shards").get(1).path("replicas")).hasSize(1);
        answers.add(get(closedBase, "/api/v1/shards/1", CLOSED_TOKEN));
        answers.add(get(closedBase, "/api/v1/shards/2", CLOSED_TOKEN));
        answers.add(get(closedBase, "/api/v1/status", CLOSED_TOKEN));
        answers.add(get(closedBase, "/metrics", CLOSED_TOKEN));
        for (Response r : answers) {
            assertThat(r.body).as(r.status + " " + r.body).doesNotContain(PASSWORD);
        }
        assertThat(closedFleet.column("SELECT shardDSN FROM `" + closedFleet.prefix + "_catalog`.shards"))
                .hasSize(2).allSatisfy(d -> assertThat(d).doesNotContain(PASSWORD));
    }

    // ---- helpers ----

    private record Response(int status, String body, HttpHeaders headers) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON (" + status + "): " + body, e);
            }
        }

        String error() {
            return json().path("error").asText();
        }
    }

    private static RunnerProcess serve(TestFleet on) {
        RunnerProcess p = RunnerProcess.command(on, "serve", "serve", "--port", "0");
        servers.add(p);
        return p;
    }

    private static Response get(String server, String path, String token) {
        return send(server, "GET", path, null, token == null ? null : "Bearer " + token);
    }

    private static Response post(String server, String path, String body, String token) {
        return send(server, "POST", path, body, token == null ? null : "Bearer " + token);
    }

    private static Response send(String server, String method, String path, String body, String authorization) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server + path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        try {
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Response(r.statusCode(), r.body(), r.headers());
        } catch (IOException e) {
            throw new UncheckedIOException(method + " " + path, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A JSON error body {"error": message, "status": status} with the given status, message and no stack trace. */
    private static void assertError(Response r, int status, String messagePart) {
        assertThat(r.status).as(r.body).isEqualTo(status);
        assertJsonError(r);
        assertThat(r.error()).as(r.body).contains(messagePart);
    }

    private static void assertJsonError(Response r) {
        assertThat(r.headers.firstValue("Content-Type")).as(r.body)
                .hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
        JsonNode json = r.json();
        assertThat(json.path("error").isTextual()).as(r.body).isTrue();
        assertThat(json.path("error").asText()).as(r.body).isNotBlank();
        assertThat(json.path("status").asInt()).as(r.body).isEqualTo(r.status);
        assertThat(r.body).as("no stack trace").doesNotContain("Exception").doesNotContain("at io.")
                .doesNotContain("at java.").doesNotContain("\tat ");
    }

    private static List<Long> ids(JsonNode shards) {
        List<Long> out = new ArrayList<>();
        shards.forEach(s -> out.add(s.path("id").asLong()));
        return out;
    }

    /** GET /api/v1/status's per-version counts are those of `status --json`, and version {@code v} has them. */
    private static void assertStatusMatchesTheCommandLine(int v, String state, int shards) {
        Cli.Result cli = Cli.run(fleet.configFile, "status", "--json");
        assertThat(cli.exit()).as(cli.all()).isZero();
        Response http = get(base, "/api/v1/status", null);
        assertThat(http.status).isEqualTo(200);
        assertThat(counts(http.json())).isEqualTo(counts(cli.json())).isNotEmpty();
        assertThat(http.json().path("shards").asInt()).isEqualTo(cli.json().path("shards").asInt());
        JsonNode version = http.json().path("versions").get(v - 1);
        assertThat(version.path("version").asInt()).isEqualTo(v);
        assertThat(version.path(state).asInt()).as(version.toString()).isEqualTo(shards);
        Response matrix = get(base, "/api/v1/matrix", null);
        assertThat(matrix.json()).isEqualTo(cli.json().path("matrix"));
    }

    private static List<String> counts(JsonNode status) {
        List<String> out = new ArrayList<>();
        for (JsonNode v : status.path("versions")) {
            StringBuilder sb = new StringBuilder("v" + v.path("version").asInt());
            for (String s : List.of("done", "running", "waiting", "pending", "failed", "blocked")) {
                sb.append(' ').append(s).append('=').append(v.path(s).asInt());
            }
            out.add(sb.toString());
        }
        return out;
    }
}
