package io.shardschema.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shardschema.config.DataSources;
import io.shardschema.testing.RunnerProcess;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

/**
 * What slow, half-open and greedy clients can do to `serve`, over real HTTP against a real `serve` child JVM:
 * dozens of half-open connections delay no other request, and the server closes them after the time a request
 * has to arrive; requests beyond the bounds on work (all requests, heavy ones) are answered 503 with Retry-After
 * instead of waiting for ever. Requests are held in the database by a table lock the test takes.
 */
class ApiServerLimitsTest {
    private static final String TOKEN = "limits-test-token-5b1e";
    /** A load that used to block every endpoint (8 were enough); a bound of "a moment" the machine can keep. */
    private static final int HALF_OPEN_CLIENTS = 60;
    private static final Duration PROMPT = Duration.ofSeconds(5);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    private static TestFleet fleet;
    private static RunnerProcess serve;
    private static URI base;

    @BeforeAll
    static void startServer() {
        fleet = TestFleet.create(TestServers.shared(), "limits", 2);
        fleet.set("apiToken", TOKEN);
        // A catalog pool (workers + 4) larger than the bound on requests, so that each request let in reaches the
        // database; shard sessions that wait for the test's lock for longer than the test holds it.
        fleet.set("workers", String.valueOf(WorkLimits.REQUESTS));
        fleet.set("lockWaitTimeoutSeconds", "300");
        fleet.registerAll();
        serve = RunnerProcess.command(fleet, "serve", "serve", "--port", "0");
        base = URI.create(serve.awaitServing());
    }

    @AfterAll
    static void stopServer() {
        serve.kill();
    }

    @Test
    void halfOpenClientsDelayNoOtherRequestAndAreClosedAfterTheRequestTime() throws Exception {
        List<String> paths = List.of("/metrics", "/api/v1/status", "/");
        paths.forEach(p -> assertThat(get(p).statusCode()).as(p).isEqualTo(200));
        List<Socket> halfOpen = new ArrayList<>();
        try {
            for (int i = 0; i < HALF_OPEN_CLIENTS; i++) {
                Socket socket = new Socket(base.getHost(), base.getPort());
                socket.setSoTimeout(60_000);
                String sent = switch (i % 3) {
                    case 0 -> "";
                    case 1 -> "GET /api/v1/status HT";
                    default -> "POST /api/v1/throttle HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + TOKEN
                            + "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"action\":";
                };
                socket.getOutputStream().write(sent.getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
                halfOpen.add(socket);
            }
            // Time for the server to take up every half-sent request (nothing to observe from outside).
            Thread.sleep(1000);
            for (int round = 0; round < 3; round++) {
                for (String path : paths) {
                    long start = System.nanoTime();
                    HttpResponse<String> r = get(path);
                    Duration took = Duration.ofNanos(System.nanoTime() - start);
                    assertThat(r.statusCode()).as(path).isEqualTo(200);
                    assertThat(took).as(path + " with " + HALF_OPEN_CLIENTS + " half-open clients").isLessThan(PROMPT);
                }
            }
            // The server closes each one (nothing sent, half a request line, half a body) once its time is up.
            for (Socket socket : halfOpen) {
                try {
                    assertThat(socket.getInputStream().read()).as("the server closed it without an answer").isEqualTo(-1);
                } catch (SocketTimeoutException e) {
                    fail("a half-open connection was still open after 60 s");
                } catch (SocketException e) {
                    // Closed by a reset: closed all the same.
                }
            }
        } finally {
            for (Socket socket : halfOpen) {
                socket.close();
            }
        }
        assertThat(Files.exists(fleet.dir.resolve("throttle"))).as("a body that never arrived changed nothing").isFalse();
    }

    @Test
    void heavyRequestsBeyondTheirBoundAre503AtOnceWhileOtherRequestsAnswer() throws Exception {
        List<CompletableFuture<HttpResponse<String>>> held;
        try (Connection lock = DataSources.connect(fleet.shardServer.rootDsn(null)); Statement s = lock.createStatement()) {
            s.execute("LOCK TABLES `" + fleet.schemas.get(0) + "`.t WRITE, `" + fleet.schemas.get(1) + "`.t WRITE");
            held = IntStream.rangeClosed(1, WorkLimits.HEAVY_REQUESTS)
                    .mapToObj(id -> getAsync("/api/v1/shards/" + (id % 2 + 1) + "/checksum")).toList();
            awaitHeld(held, fleet::shardColumn, "INFO LIKE 'CHECKSUM TABLE%' AND INFO LIKE '%" + fleet.prefix + "%'");

            for (String heavy : List.of("/api/v1/drift", "/api/v1/shards/1/replicas", "/api/v1/shards/2/checksum")) {
                HttpResponse<String> refused = timed(heavy);
                assertBusy(refused, "heavy requests");
                assertThat(refused.headers().firstValue("Retry-After")).hasValue("10");
            }
            assertThat(timed("/api/v1/status").statusCode()).isEqualTo(200);
            assertThat(timed("/metrics").statusCode()).isEqualTo(200);
        }
        // The lock is gone with its session: the held checksums end, and their permits are back.
        for (CompletableFuture<HttpResponse<String>> r : held) {
            HttpResponse<String> done = r.get(60, TimeUnit.SECONDS);
            assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
        }
        assertThat(timed("/api/v1/shards/1/checksum").statusCode()).isEqualTo(200);
    }

    @Test
    void requestsBeyondTheBoundAre503AfterAShortWaitNotQueued() throws Exception {
        List<CompletableFuture<HttpResponse<String>>> held;
        try (Connection lock = DataSources.connect(fleet.catalogDsn); Statement s = lock.createStatement()) {
            s.execute("LOCK TABLES shards WRITE");
            held = IntStream.range(0, WorkLimits.REQUESTS).mapToObj(i -> getAsync("/api/v1/status")).toList();
            awaitHeld(held, fleet::column, "DB = '" + fleet.prefix + "_catalog'");

            for (String path : List.of("/api/v1/status", "/metrics")) {
                HttpResponse<String> refused = timed(path);
                assertBusy(refused, "requests are already being answered");
                assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
            }
            assertThat(timed("/").statusCode()).as("the page's files need no database").isEqualTo(200);
        }
        for (CompletableFuture<HttpResponse<String>> r : held) {
            HttpResponse<String> done = r.get(60, TimeUnit.SECONDS);
            assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
        }
        assertThat(timed("/api/v1/status").statusCode()).isEqualTo(200);
    }

    /**
     * Waits until each held request waits on the test's lock (a session {@code query} sees matching {@code where} in
     * a "Waiting for table" state). A held request that ends before then, or a wait that never fills up, fails at
     * once with what the requests got and what the server's sessions were doing: the test's premise is gone.
     */
    private static void awaitHeld(List<CompletableFuture<HttpResponse<String>>> held,
                                  Function<String, List<String>> query, String where) {
        String waiting = "FROM information_schema.PROCESSLIST WHERE " + where + " AND STATE LIKE 'Waiting for table%'";
        try {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
                if (held.stream().anyMatch(CompletableFuture::isDone)) {
                    throw new AssertionError("a held request ended before the lock was released");
                }
                return Integer.parseInt(query.apply("SELECT COUNT(*) " + waiting).get(0)) == held.size();
            });
        } catch (AssertionError | ConditionTimeoutException e) {
            String requests = held.stream().map(f -> !f.isDone() ? "waiting"
                    : f.isCompletedExceptionally() ? "failed: " + f.handle((r, x) -> String.valueOf(x)).join()
                    : f.join().statusCode() + " " + f.join().body()).collect(Collectors.joining("\n  "));
            String sessions = String.join("\n  ", query.apply("SELECT CONCAT_WS(' | ', ID, DB, COMMAND, TIME, STATE,"
                    + " LEFT(INFO, 120)) FROM information_schema.PROCESSLIST WHERE COMMAND <> 'Daemon'"));
            fail(held.size() + " requests were not all held by the lock (" + e.getMessage() + ")\nrequests:\n  "
                    + requests + "\nsessions:\n  " + sessions, e);
        }
    }

    /** A GET that must answer within {@link #PROMPT} (the bounds' own short wait included). */
    private static HttpResponse<String> timed(String path) {
        long start = System.nanoTime();
        HttpResponse<String> r = get(path);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as(path).isLessThan(PROMPT);
        return r;
    }

    private static void assertBusy(HttpResponse<String> r, String messagePart) throws IOException {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.path("status").asInt()).isEqualTo(503);
        assertThat(body.path("error").asText()).contains(messagePart).contains("try again");
    }

    private static HttpRequest request(String path) {
        return HttpRequest.newBuilder(base.resolve(path)).header("Authorization", "Bearer " + TOKEN)
                .timeout(Duration.ofSeconds(30)).build();
    }

    private static CompletableFuture<HttpResponse<String>> getAsync(String path) {
        return HTTP.sendAsync(request(path), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> get(String path) {
        try {
            return HTTP.send(request(path), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + path, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
