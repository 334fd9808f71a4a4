package io.shardschema.server;

import io.shardschema.testing.RunnerProcess;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * What slow, half-open and greedy clients can do to `serve`, over real HTTP against a real `serve` child JVM:
 * dozens of half-open connections delay no other request, and the server closes them after the time a request
 * has to arrive.
 */
class ApiServerLimitsTest {
    private static final String TOKEN = "limits-test-token-5b1e";
    /** A load that used to block every endpoint (8 were enough); a bound of "a moment" the machine can keep. */
    private static final int HALF_OPEN_CLIENTS = 60;
    private static final Duration PROMPT = Duration.ofSeconds(5);
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    private static TestFleet fleet;
    private static RunnerProcess serve;
    private static URI base;

    @BeforeAll
    static void startServer() {
        fleet = TestFleet.create(TestServers.shared(), "limits", 2);
        fleet.set("apiToken", TOKEN);
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

    private static HttpResponse<String> get(String path) {
        HttpRequest request = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30)).build();
        try {
            return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + path, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
