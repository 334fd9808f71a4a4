package io.shardschema.embedded;

import io.shardschema.ShardSchemaException;
import io.shardschema.config.Dsn;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * The embedded default: with no dbDSN, the catalog lives in a MariaDB whose data persists under
 * {@code embeddedDir}. The first command that needs it starts it (on a port it keeps for next time, so shard DSNs
 * that point at it stay valid) and stops it when it exits; a command that finds it already running uses it.
 */
public final class EmbeddedCatalog implements AutoCloseable {
    public static final String CATALOG_DB = "shardschema";

    private final MariaDbServer owned;
    private final int port;

    private EmbeddedCatalog(MariaDbServer owned, int port) {
        this.owned = owned;
        this.port = port;
    }

    public static EmbeddedCatalog open(Path embeddedDir) {
        try {
            Files.createDirectories(embeddedDir);
            try (FileChannel ch = FileChannel.open(embeddedDir.resolve("lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE); FileLock ignored = ch.lock()) {
                Path portFile = embeddedDir.resolve("port");
                int port = Files.exists(portFile) ? Integer.parseInt(Files.readString(portFile).strip()) : freePort();
                if (listening(port) && Files.exists(embeddedDir.resolve("server").resolve("data"))) {
                    return new EmbeddedCatalog(null, port);
                }
                MariaDbServer server = MariaDbServer.start(embeddedDir.resolve("server"), port, List.of());
                Files.writeString(portFile, String.valueOf(server.port()));
                return new EmbeddedCatalog(server, server.port());
            }
        } catch (IOException | NumberFormatException e) {
            throw ShardSchemaException.error("cannot start the embedded MariaDB under " + embeddedDir + ": "
                    + e.getMessage(), e);
        }
    }

    private static boolean listening(int port) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** The embedded server as root, on the given database. */
    public Dsn dsn(String database) {
        return Dsn.tcp("root", null, "127.0.0.1", port, database);
    }

    @Override
    public void close() {
        if (owned != null) {
            owned.stop();
        }
    }
}
