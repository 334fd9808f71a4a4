package io.shardschema.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shardschema.testing.Cli;
import io.shardschema.testing.RunnerProcess;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** With no dbDSN every command uses the embedded MariaDB, whose data persists between commands. */
class EmbeddedDefaultTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    @Test
    void demoAndCommandsWorkOnTheEmbeddedDefault() throws Exception {
        Path dir = Files.createDirectories(TestServers.ROOT.resolve("embedded-" + UUID.randomUUID().toString().substring(0, 6)))
                .toAbsolutePath();
        Path cfg = Files.writeString(dir.resolve("embedded.cnf"), "embeddedDir=" + dir.resolve("home") + "\n"
                + "throttlingFile=" + dir.resolve("throttle") + "\nstopFile=" + dir.resolve("stop") + "\n");

        Cli.Result demo = Cli.run(cfg, "demo", "--shards", "12", "--json");
        assertThat(demo.exit()).as(demo.all()).isZero();
        assertThat(demo.json().at("/status/shards").asInt()).isEqualTo(12);
        assertThat(demo.json().at("/status/versions/2/done").asInt()).isEqualTo(12);
        assertThat(demo.json().at("/run/summary/applied").asInt()).isEqualTo(36);

        // `serve` (a process of its own, as a user starts it) serves the demo's fleet: the API and the dashboard's reads.
        RunnerProcess serve = RunnerProcess.command(cfg, dir, "serve", "serve", "--port", "0");
        try {
            String base = serve.awaitServing();
            JsonNode status = getJson(base, "/api/v1/status");
            assertThat(status.path("shards").asInt()).as(status.toString()).isEqualTo(12);
            List<Integer> numbers = new ArrayList<>();
            for (JsonNode v : status.path("versions")) {
                numbers.add(v.path("version").asInt());
                assertThat(v.path("done").asInt()).as(v.toString()).isEqualTo(12);
            }
            assertThat(numbers).containsExactly(1, 2, 3);
            assertThat(status.path("versions")).isEqualTo(demo.json().at("/status/versions"));
            assertThat(status.path("failedShards").asInt()).isZero();
            JsonNode matrix = getJson(base, "/api/v1/matrix");
            assertThat(matrix).hasSize(1);
            assertThat(matrix.get(0).path("version").asInt()).isEqualTo(3);
            assertThat(matrix.get(0).path("state").asText()).isEqualTo("ready");
            assertThat(matrix.get(0).path("shards").asInt()).isEqualTo(12);

            // The page and its script, then what the script reads: the versions, the shards, one shard's runs.
            HttpResponse<String> page = get(base, "/");
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.body()).contains("<title>ShardSchema</title>", "<script src=\"/app.js\">");
            HttpResponse<String> script = get(base, "/app.js");
            assertThat(script.statusCode()).isEqualTo(200);
            assertThat(script.body()).contains("call('GET', '/status')", "'/shards?offset='");
            List<String> tables = new ArrayList<>();
            getJson(base, "/api/v1/versions").path("versions").forEach(v -> tables.add(v.path("number").asInt() + ":"
                    + v.path("tableName").asText()));
            assertThat(tables).containsExactly("1:users", "2:orders", "3:audit");
            JsonNode shards = getJson(base, "/api/v1/shards?offset=0&limit=1000");
            assertThat(shards.path("total").asInt()).isEqualTo(12);
            List<String> listed = new ArrayList<>();
            shards.path("shards").forEach(s -> listed.add(s.path("id").asLong() + ":" + s.path("schemaName").asText()
                    + ":" + s.path("version").asInt() + ":" + s.path("state").asText()));
            List<String> expected = new ArrayList<>();
            for (int i = 1; i <= 12; i++) {
                expected.add(i + ":" + String.format("demo_shard_%03d", i) + ":3:ready");
            }
            assertThat(listed).containsExactlyElementsOf(expected);
            List<String> runs = new ArrayList<>();
            getJson(base, "/api/v1/shards/1/runs?limit=100").path("runs").forEach(r -> runs.add(r.path("version").asInt()
                    + ":" + r.path("state").asText()));
            assertThat(runs).containsExactlyInAnyOrder("1:applied", "2:applied", "3:applied");
            serve.terminate();
            // 143 = 128 + SIGTERM: it stopped in order, the embedded server with it.
            assertThat(serve.waitFor(60)).as(serve.output()).isEqualTo(143);
        } finally {
            serve.kill();
        }

        // Each command starts the embedded server and stops it on exit; the demo's fleet is the default catalog's.
        assertThat(Cli.run(cfg, "init").exit()).isZero();
        Cli.Result status = Cli.run(cfg, "status", "--json");
        assertThat(status.json().get("shards").asInt()).as(status.all()).isEqualTo(12);
        String server = "root@tcp(127.0.0.1:" + Files.readString(dir.resolve("home").resolve("port")).strip() + ")/";
        Cli.Result found = Cli.run(cfg, "shard", "discover", "--dsn", server, "--like", "demo\\_shard\\_%", "--json");
        assertThat(found.json().get("alreadyRegistered").asInt()).as(found.all()).isEqualTo(12);
        assertThat(Cli.run(cfg, "version", "add", "--table", "users", "--command", "ADD COLUMN nick VARCHAR(20)").exit()).isZero();
        Cli.Result run = Cli.run(cfg, "run", "--json");
        assertThat(run.exit()).as(run.all()).isZero();
        assertThat(run.json().at("/summary/applied").asInt()).isEqualTo(12);
        assertThat(Cli.run(cfg, "status", "--json").json().at("/versions/3/done").asInt()).isEqualTo(12);

        // A second demo starts over, smaller; it is refused while the catalog holds a shard it did not make.
        Cli.Result again = Cli.run(cfg, "demo", "--shards", "3", "--json");
        assertThat(again.exit()).as(again.all()).isZero();
        assertThat(Cli.run(cfg, "status", "--json").json().get("shards").asInt()).isEqualTo(3);
        assertThat(Cli.run(cfg, "shard", "add", "--schema", "mysql", "--dsn", server).exit()).isZero();
        Cli.Result refused = Cli.run(cfg, "demo", "--shards", "3");
        assertThat(refused.exit()).isEqualTo(4);
        assertThat(refused.err()).contains("holds shards the demo did not make", "mysql");
        assertThat(Cli.run(cfg, "shard", "list", "--json").json().get("shards")).hasSize(4);
    }

    private static HttpResponse<String> get(String base, String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode getJson(String base, String path) throws IOException, InterruptedException {
        HttpResponse<String> r = get(base, path);
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return new ObjectMapper().readTree(r.body());
    }
}
