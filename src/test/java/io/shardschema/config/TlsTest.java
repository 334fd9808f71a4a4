package io.shardschema.config;

import io.shardschema.embedded.MariaDbServer;
import io.shardschema.testing.Cli;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * TLS options of DSNs reach the driver, for the catalog and for shards: a server whose user requires a client
 * certificate (REQUIRE X509) is reached with tls=true, ssl-ca, ssl-cert and ssl-key, and refused without them.
 */
class TlsTest {
    private static final String PASSWORD = "Tls-pw-7a";
    private static Path certs;
    private static MariaDbServer server;

    @BeforeAll
    static void start() throws Exception {
        certs = Files.createDirectories(Path.of("target", "tls-" + UUID.randomUUID().toString().substring(0, 6)))
                .toAbsolutePath();
        openssl("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -keyout ca-key.pem -out ca.pem -subj /CN=ShardSchemaTestCA"
                + " && openssl req -newkey rsa:2048 -nodes -keyout server-key.pem -out server.csr -subj /CN=127.0.0.1"
                + " && printf 'subjectAltName=IP:127.0.0.1' > san.ext"
                + " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -out server.pem -extfile san.ext"
                + " && openssl req -newkey rsa:2048 -nodes -keyout client-key.pem -out client.csr -subj /CN=shardschema-client"
                // Java sends only X.509 v3 client certificates: give it extensions.
                + " && printf 'basicConstraints=CA:FALSE\\nextendedKeyUsage=clientAuth\\n' > client.ext"
                + " && openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -out client.pem"
                + " -extfile client.ext"
                + " && openssl rsa -in client-key.pem -traditional -out client-key-pkcs1.pem");
        server = TestServers.fresh("tls", List.of("--ssl-ca=" + certs.resolve("ca.pem"),
                "--ssl-cert=" + certs.resolve("server.pem"), "--ssl-key=" + certs.resolve("server-key.pem")));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.stop();
        }
    }

    private static void openssl(String script) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("bash", "-c", script).directory(certs.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isZero();
    }

    private String tlsDsn(String db, boolean clientCert, String keyFile) {
        return "tlsuser" + (db == null ? "" : ":" + PASSWORD) + "@tcp(127.0.0.1:" + server.port() + ")/" + (db == null ? "" : db)
                + "?tls=true&ssl-ca=" + certs.resolve("ca.pem")
                + (clientCert ? "&ssl-cert=" + certs.resolve("client.pem") + "&ssl-key=" + certs.resolve(keyFile) : "");
    }

    @Test
    void catalogAndShardsAreReachedWithClientCertificatesAndRefusedWithout() {
        TestFleet fleet = TestFleet.create(server, "tls", 4);
        fleet.execute("CREATE USER 'tlsuser'@'127.0.0.1' IDENTIFIED BY '" + PASSWORD + "' REQUIRE X509");
        fleet.execute("GRANT ALL ON *.* TO 'tlsuser'@'127.0.0.1'");
        String catalog = fleet.prefix + "_catalog";

        fleet.set("dbDSN", tlsDsn(catalog, false, null));
        Cli.Result refused = Cli.run(fleet.configFile, "status");
        assertThat(refused.exit()).isEqualTo(1);
        assertThat(refused.err()).contains("Access denied");

        fleet.set("dbDSN", tlsDsn(catalog, true, "client-key-pkcs1.pem"));
        Cli.Result discover = Cli.run(fleet.configFile, "shard", "discover", "--like", fleet.prefix + "\\_s%",
                "--dsn", tlsDsn(null, true, "client-key.pem"));
        assertThat(discover.exit()).as(discover.all()).isZero();
        assertThat(fleet.column("SELECT shardDSN FROM `" + catalog + "`.shards")).hasSize(4)
                .allSatisfy(dsn -> assertThat(dsn).contains("tls=true").contains("ssl-key=").doesNotContain(PASSWORD));
        fleet.addVersion("t", "ADD COLUMN secure INT");

        Cli.Result run = Cli.run(fleet.configFile, "run");
        assertThat(run.exit()).as(run.all()).isZero();
        assertThat(fleet.column("SELECT DISTINCT version FROM `" + catalog + "`.shards")).containsExactly("1");
        assertThat(run.all()).doesNotContain(PASSWORD);
    }
}
