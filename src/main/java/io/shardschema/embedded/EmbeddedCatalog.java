package io.shardschema.embedded;

import io.shardschema.ShardSchemaException;
import io.shardschema.config.DataSources;
import io.shardschema.config.Dsn;
import io.shardschema.config.LocalFiles;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Base64;
import java.util.List;

/**
 * The embedded default: with no dbDSN, the catalog lives in a MariaDB whose data persists under
 * {@code embeddedDir}. The first command that needs it starts it (on a port it keeps for next time, so shard DSNs
 * that point at it stay valid) and stops it when it exits; a command that finds it already running uses it.
 * <p>
 * Other local users reach 127.0.0.1 too: root has a generated password, kept in the private folder (0700) in a
 * file of its own (0600); and before a command uses a server on the remembered port it checks that the server is
 * this folder's (its pid file names a live process of this folder's binaries), and after logging in that the
 * server's data directory and root password are this folder's. A folder made by an older version (root without
 * password) gets its password at the next start of its server.
 */
public final class EmbeddedCatalog implements AutoCloseable {
    public static final String CATALOG_DB = "shardschema";
    static final String PASSWORD_FILE = "root-password";

    private final MariaDbServer owned;
    private final int port;
    private final String password;

    private EmbeddedCatalog(MariaDbServer owned, int port, String password) {
        this.owned = owned;
        this.port = port;
        this.password = password;
    }

    public static EmbeddedCatalog open(Path embeddedDir) {
        try {
            // Older versions made it 0755; the data, the password and the server's init file are nobody else's.
            Files.setPosixFilePermissions(LocalFiles.privateDirectory(embeddedDir),
                    PosixFilePermissions.fromString("rwx------"));
            try (FileChannel ch = FileChannel.open(embeddedDir.resolve("lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS); FileLock ignored = ch.lock()) {
                String password = password(embeddedDir.resolve(PASSWORD_FILE));
                Path serverDir = embeddedDir.resolve("server");
                Path portFile = embeddedDir.resolve("port");
                int port = Files.exists(portFile) ? Integer.parseInt(Files.readString(portFile).strip()) : freePort();
                EmbeddedCatalog catalog;
                if (MariaDbServer.runningPid(serverDir).isPresent()) {
                    catalog = new EmbeddedCatalog(null, port, password);
                } else if (listening(port)) {
                    throw ShardSchemaException.error("port " + port + " of the embedded MariaDB under " + embeddedDir
                            + " is taken by another process (its server is not running); stop that process, or"
                            + " remove " + portFile + " to use another port (shards registered on the old port then"
                            + " need registering again)");
                } else {
                    MariaDbServer server = MariaDbServer.start(serverDir, port, List.of(), password);
                    Files.writeString(portFile, String.valueOf(server.port()));
                    catalog = new EmbeddedCatalog(server, server.port(), password);
                }
                catalog.checkOurs(serverDir.resolve("data"));
                return catalog;
            }
        } catch (IOException | NumberFormatException e) {
            throw ShardSchemaException.error("cannot start the embedded MariaDB under " + embeddedDir + ": "
                    + e.getMessage(), e);
        }
    }

    /** Reads the root password, or makes one (0600, created new: never through a link). */
    private static String password(Path file) throws IOException {
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            byte[] random = new byte[24];
            new SecureRandom().nextBytes(random);
            Files.writeString(Files.createFile(file, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rw-------"))), Base64.getUrlEncoder().withoutPadding()
                    .encodeToString(random));
        }
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(file + " is not a regular file");
        }
        return Files.readString(file).strip();
    }

    /**
     * Checks, once logged in, that the server is this folder's: its data directory, and root's password hash (which
     * a stranger's server could not show without the password). Stops a server this command started otherwise.
     */
    private void checkOurs(Path dataDir) throws IOException {
        String problem = null;
        try (Connection c = DataSources.connect(dsn(null)); PreparedStatement ps = c.prepareStatement(
                "SELECT @@datadir, (SELECT authentication_string FROM mysql.user WHERE User = ? AND Host = ?)")) {
            ps.setString(1, "root");
            ps.setString(2, "127.0.0.1");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (!Path.of(rs.getString(1)).toRealPath().equals(dataDir.toRealPath())) {
                    problem = "its data directory is " + rs.getString(1) + ", not " + dataDir;
                } else if (!MariaDbServer.nativePasswordHash(password).equals(rs.getString(2))) {
                    problem = "its root password is not the one in " + PASSWORD_FILE;
                }
            }
        } catch (SQLException | ShardSchemaException | IOException e) {
            problem = "cannot log in as root with the password in " + PASSWORD_FILE + " (" + e.getMessage()
                    + "); if an older shardschema started this server and still runs, let it finish and try again";
        }
        if (problem != null) {
            close();
            throw new IOException("the MariaDB on 127.0.0.1:" + port + " is not this folder's: " + problem);
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

    /** The embedded server as root (with its password), on the given database. */
    public Dsn dsn(String database) {
        return Dsn.tcp("root", password, "127.0.0.1", port, database);
    }

    @Override
    public void close() {
        if (owned != null) {
            owned.stop();
        }
    }
}
