package io.shardschema.server;

import io.shardschema.testing.RunnerProcess;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * DNS rebinding against a `serve` that listens on a non-loopback address of this machine, over real HTTP: a request
 * whose Host is another name is refused on every path; its address, localhost, the machine's name and the names
 * of apiHostNames are served.
 */
class ApiServerHostTest {

    @Test
    void onANonLoopbackAddressOnlyThisServersNamesAreServed() throws Exception {
        InetAddress address = AllowedHostsTest.ownAddress().orElse(null);
        assumeTrue(address != null, "this machine has no non-loopback IPv4 address to listen on");
        TestFleet fleet = TestFleet.create(TestServers.shared(), "hosts", 1);
        fleet.set("apiHostNames", "dash.example.test, Other.Example.Test");
        RunnerProcess serve = RunnerProcess.command(fleet, "serve", "serve", "--port", "0",
                "--bind", address.getHostAddress());
        try {
            URI base = URI.create(serve.awaitServing());
            int port = base.getPort();
            for (String path : new String[]{"/api/v1/status", "/metrics", "/"}) {
                String refused = request(base, path, "Host: rebind.example:" + port);
                assertThat(refused).as(path).startsWith("HTTP/1.1 403")
                        .contains("answers requests for its own addresses and names only").doesNotContain("\"versions\"");
            }
            assertThat(request(base, "/api/v1/status", "X-No-Host: 1")).as("no Host at all").startsWith("HTTP/1.1 403");
            for (String host : new String[]{address.getHostAddress() + ":" + port, "localhost:" + port,
                    InetAddress.getLocalHost().getHostName(), "dash.example.test", "other.example.test:" + port}) {
                assertThat(request(base, "/api/v1/status", "Host: " + host)).as(host).startsWith("HTTP/1.1 200")
                        .contains("\"versions\"");
            }
        } finally {
            serve.kill();
        }
    }

    /** One request with the given Host line (or none), over a raw socket: the status line, headers and body. */
    private static String request(URI base, String path, String hostLine) throws IOException {
        try (Socket socket = new Socket(base.getHost(), base.getPort())) {
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\n" + hostLine + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
