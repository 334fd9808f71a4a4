package io.shardschema.embedded;

import io.shardschema.ShardSchemaException;
import io.shardschema.config.DataSources;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The embedded catalog against other local users: root needs the password kept in the private folder, a folder
 * made by an older version (root without password) is upgraded in place, and a server on the remembered port that is
 * not the folder's own is never used.
 */
class EmbeddedCatalogTest {

    @Test
    void anOlderFolderGetsAPasswordAndAStrangerOnItsPortIsNeverUsed() throws Exception {
        Path home = Files.createDirectories(TestServers.ROOT.resolve("embcat-" + UUID.randomUUID().toString()
                .substring(0, 6)).resolve("home")).toAbsolutePath();
        Path portFile = home.resolve("port");
        // What an older version left: a 0755 folder, root without password, a catalog with a row.
        MariaDbServer older = MariaDbServer.start(home.resolve("server"), 0, List.of());
        int port = older.port();
        Files.writeString(portFile, String.valueOf(port));
        execute(older.rootDsn(null), "CREATE DATABASE kept", "CREATE TABLE kept.t (id INT)", "INSERT INTO kept.t VALUES (7)");
        older.stop();
        Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwxr-xr-x"));

        try (EmbeddedCatalog catalog = EmbeddedCatalog.open(home)) {
            assertThat(Files.getPosixFilePermissions(home)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
            Path password = home.resolve(EmbeddedCatalog.PASSWORD_FILE);
            assertThat(Files.getPosixFilePermissions(password)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
            assertThat(catalog.dsn(null).password()).isEqualTo(Files.readString(password).strip()).hasSizeGreaterThan(20);
            assertThatThrownBy(() -> DataSources.connect(older.rootDsn(null)).close())
                    .as("root without password").hasMessageContaining("Access denied");
            try (Connection c = DataSources.connect(catalog.dsn(null)); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT id FROM kept.t")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).as("the older folder's data").isEqualTo(7);
            }

            // A second command finds the server running and checks it is this folder's before using it.
            try (EmbeddedCatalog second = EmbeddedCatalog.open(home)) {
                assertThat(second.dsn(null).port()).isEqualTo(port);
            }
            Files.writeString(portFile, String.valueOf(TestServers.shared().port()));
            assertThatThrownBy(() -> EmbeddedCatalog.open(home)).isInstanceOf(ShardSchemaException.class)
                    .hasMessageContaining("is not this folder's").hasMessageContaining("cannot log in as root");
            Files.writeString(portFile, String.valueOf(port));
        }

        // The folder's server is down and another process listens on its port: it gets no byte from us.
        try (Stranger stranger = new Stranger(port)) {
            assertThatThrownBy(() -> EmbeddedCatalog.open(home)).isInstanceOf(ShardSchemaException.class)
                    .hasMessageContaining("port " + port + " of the embedded MariaDB under " + home
                            + " is taken by another process");
            assertThat(stranger.bytesReceived.get()).isZero();
        }
    }

    private static void execute(io.shardschema.config.Dsn dsn, String... statements) throws SQLException {
        try (Connection c = DataSources.connect(dsn); Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        }
    }

    /** Listens on a port as a fake server would, and counts what clients send it. */
    private static final class Stranger implements AutoCloseable {
        final AtomicInteger bytesReceived = new AtomicInteger();
        private final ServerSocket socket;

        Stranger(int port) throws IOException {
            socket = new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
            Thread t = new Thread(() -> {
                while (!socket.isClosed()) {
                    try (Socket client = socket.accept(); InputStream in = client.getInputStream()) {
                        client.setSoTimeout(500);
                        while (in.read() >= 0) {
                            bytesReceived.incrementAndGet();
                        }
                    } catch (IOException e) {
                        // closed, or the client stayed silent: next one
                    }
                }
            }, "stranger");
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
