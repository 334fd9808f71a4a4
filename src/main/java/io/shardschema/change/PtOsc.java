package io.shardschema.change;

import io.shardschema.ShardSchemaException;
import io.shardschema.config.Dsn;
import io.shardschema.config.LocalFiles;
import io.shardschema.schema.Sql;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs pt-online-schema-change against one table of one shard. Credentials go through a private option file
 * (mode 0600, removed when the process ends), never on its command line; so does the ALTER, whose bytes must
 * arrive unchanged. A copy leaves the shadow table and the
 * triggers in place and does not swap: the cut-over is ShardSchema's own step.
 */
public final class PtOsc {
    /** What the process is asked to do. */
    public enum Mode { DRY_RUN, COPY }

    /** pt-osc's progress line: "Copying `db`.`t`:  53% 00:26 remain". */
    private static final Pattern PROGRESS = Pattern.compile("Copying .*:\\s+(\\d+)% (\\d+(?::\\d+)*) remain");
    /** Linux: the child dies with the runner, so no copy keeps going after its runner was killed. */
    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");

    private static final String OPTION_FILE_PREFIX = "ptosc-";
    private static final String ALTER_FILE_PREFIX = "ptosc-alter-";
    private static final String PLUGIN_FILE_PREFIX = "ptosc-plugin-";
    /** An option, ALTER or plugin file of a runner, by its process id. */
    private static final Pattern OPTION_FILE = Pattern.compile("ptosc-(?:alter-|plugin-)?(\\d+)-.*\\.(?:cnf|sql|pm)");
    /** The plugin that ends pt-osc after its copy, so that --preserve-triggers leaves its triggers in place. */
    private static final String STOP_AFTER_COPY = "stop-after-copy.pm";

    /**
     * The option for a table with triggers of its own. pt-osc refuses it together with --no-drop-triggers (it would
     * drop its triggers at its end): the copy then runs with the plugin that ends pt-osc before that.
     */
    public static final String PRESERVE_TRIGGERS = "--preserve-triggers";
    private static final java.nio.file.attribute.FileAttribute<?> PRIVATE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    private final String executable;
    private final Path pauseFile;

    public PtOsc(String executable, Path pauseFile) {
        this.executable = executable;
        this.pauseFile = pauseFile;
    }

    /**
     * Makes the directory for option files and run logs, or checks that it is private to this user (see
     * {@link LocalFiles#privateDirectory}), and removes the option files of runners that were killed before they
     * could (their process is gone): they hold passwords.
     */
    public static void prepareWorkDir(Path dir) throws IOException {
        try (java.util.stream.Stream<Path> files = Files.list(LocalFiles.privateDirectory(dir))) {
            for (Path f : files.toList()) {
                Matcher m = OPTION_FILE.matcher(f.getFileName().toString());
                if (m.matches() && !ProcessHandle.of(Long.parseLong(m.group(1))).map(ProcessHandle::isAlive).orElse(false)) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    /** The shadow table pt-osc builds for {@code table}; ShardSchema names it, so that it can find it again. */
    public static String shadowTable(String table) {
        return Sql.tableName("_" + table + "_new");
    }

    /** A started pt-osc process; closing it stops the process if still running and removes the option file. */
    public final class Running implements AutoCloseable {
        private final Process process;
        private final List<Path> files;

        private Running(Process process, List<Path> files) {
            this.process = process;
            this.files = files;
        }

        /** Feeds every output line (stdout and stderr) to {@code lines}; returns the exit code. */
        public int await(Consumer<String> lines) throws IOException, InterruptedException {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.accept(line);
                }
            }
            return process.waitFor();
        }

        /**
         * Stops the process (pt-osc leaves its triggers and shadow table; the caller cleans up): SIGTERM, then SIGKILL
         * if it is still there after 10 s.
         */
        public void stop() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }

        public long pid() {
            return process.pid();
        }

        @Override
        public void close() throws IOException {
            process.destroyForcibly();
            deleteAll(files);
        }
    }

    /**
     * Starts pt-osc on {@code schema.table} of the server {@code dsn} (with credentials) names, with the version's
     * {@code options} and the {@code caseArguments} the table's case needs ({@code PtOscChecks}).
     */
    public Running start(Dsn dsn, String schema, String table, String alter, Map<String, String> options,
                         List<String> caseArguments, Mode mode, Path workDir) throws IOException {
        Path dir = LocalFiles.privateDirectory(workDir);
        List<Path> files = new ArrayList<>();
        try {
            // Fresh names (created exclusively, so never through a link) in a directory only this user can write.
            Path optionFile = privateFile(dir, OPTION_FILE_PREFIX, ".cnf", files);
            Files.writeString(optionFile, optionFileText(dsn));
            // The ALTER reaches pt-osc as UTF-8 bytes through a file that sh reads: an argument would be encoded in
            // the JVM's locale, and a non-ASCII comment or value would arrive as '?' under LANG=C.
            Path alterFile = privateFile(dir, ALTER_FILE_PREFIX, ".sql", files);
            Files.writeString(alterFile, alter, StandardCharsets.UTF_8);
            List<String> command = new ArrayList<>();
            if (Files.isExecutable(SETPRIV)) {
                command.addAll(List.of(SETPRIV.toString(), "--pdeathsig", "KILL", "--"));
            }
            command.addAll(List.of("/bin/sh", "-c", "p=$1; f=$2; shift 2; a=$(cat -- \"$f\") && [ -n \"$a\" ] || exit 125;"
                    + " exec \"$p\" --alter \"$a\" \"$@\"",
                    "sh", executable, alterFile.toString()));
            command.add("--defaults-file=" + optionFile);
            // utf8mb4 both ways: pt-osc rebuilds the table from SHOW CREATE TABLE and copies rows through its own
            // connection, where latin1 (its default) turns comments, ENUM values and defaults beyond latin1 into '?'.
            command.addAll(List.of("--charset", "utf8mb4"));
            // No replica discovery unless the version asks for it: shards are found through the catalog.
            Map<String, String> all = new LinkedHashMap<>(Map.of("recursion-method", "none"));
            all.putAll(options);
            command.addAll(PtOscOptions.arguments(all));
            command.addAll(caseArguments);
            command.addAll(List.of("--new-table-name", shadowTable(table), "--progress", "time,2",
                    "--pause-file", pauseFile.toString(), "--no-swap-tables", "--no-drop-new-table",
                    "--no-drop-old-table"));
            if (!caseArguments.contains(PRESERVE_TRIGGERS)) {
                command.add("--no-drop-triggers");
            } else if (mode == Mode.COPY) {
                Path plugin = privateFile(dir, PLUGIN_FILE_PREFIX, ".pm", files);
                try (java.io.InputStream in = PtOsc.class.getResourceAsStream(STOP_AFTER_COPY)) {
                    Files.write(plugin, in.readAllBytes());
                }
                command.addAll(List.of("--plugin", plugin.toString()));
            }
            command.add(mode == Mode.DRY_RUN ? "--dry-run" : "--execute");
            command.add(target(dsn, schema, table));
            checkEncodable(command);
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            pb.environment().remove("MYSQL_PWD");
            return new Running(pb.start(), files);
        } catch (IOException | RuntimeException e) {
            deleteAll(files);
            if (e instanceof IOException io && io.getMessage() != null && io.getMessage().contains("error=2")) {
                throw ShardSchemaException.error("cannot run " + executable + ": not found; install percona-toolkit"
                        + " or set ptOscPath", e);
            }
            throw e;
        }
    }

    /** A new file of mode 0600 named for this process (so that {@link #prepareWorkDir} knows whose it is). */
    private static Path privateFile(Path dir, String prefix, String suffix, List<Path> files) throws IOException {
        Path file = Files.createTempFile(dir, prefix + ProcessHandle.current().pid() + "-", suffix, PRIVATE);
        files.add(file);
        return file;
    }

    private static void deleteAll(List<Path> files) throws IOException {
        for (Path f : files) {
            Files.deleteIfExists(f);
        }
    }

    /** Arguments go out in the JVM's locale encoding: one it cannot encode would reach pt-osc changed. */
    private static void checkEncodable(List<String> command) {
        String name = System.getProperty("sun.jnu.encoding", java.nio.charset.Charset.defaultCharset().name());
        java.nio.charset.CharsetEncoder encoder = java.nio.charset.Charset.forName(name).newEncoder();
        for (String argument : command) {
            if (!encoder.canEncode(argument)) {
                throw ShardSchemaException.error("cannot pass '" + argument + "' to pt-osc in this locale's encoding ("
                        + name + "): run ShardSchema under a UTF-8 locale (for example LANG=C.UTF-8)");
            }
        }
    }

    /**
     * pt-osc's DSN, from checked parts only: the table, and where the server is (a host or socket that {@link Dsn}
     * validated); user and password are in the option file. A ',' would start another of pt-osc's DSN parts
     * ({@code h=}, {@code F=}), so no part may hold one.
     */
    static String target(Dsn dsn, String schema, String table) {
        Map<String, String> parts = new LinkedHashMap<>();
        parts.put("D", schema);
        parts.put("t", table);
        if (dsn.socket() != null) {
            parts.put("S", dsn.socket());
        } else {
            parts.put("h", dsn.host());
            parts.put("P", String.valueOf(dsn.port()));
        }
        StringBuilder target = new StringBuilder();
        for (Map.Entry<String, String> part : parts.entrySet()) {
            if (part.getValue().contains(",")) {
                throw ShardSchemaException.error("pt-osc cannot address `" + part.getValue()
                        + "`: its DSN syntax forbids ','");
            }
            target.append(target.length() == 0 ? "" : ",").append(part.getKey()).append('=').append(part.getValue());
        }
        return target.toString();
    }

    private static String optionFileText(Dsn dsn) {
        StringBuilder sb = new StringBuilder("[client]\n");
        if (dsn.user() != null) {
            sb.append("user=").append(quoted(dsn.user(), "user")).append('\n');
        }
        if (dsn.password() != null) {
            sb.append("password=").append(quoted(dsn.password(), "password")).append('\n');
        }
        return sb.toString();
    }

    private static String quoted(String value, String what) {
        if (value.contains("\"") || value.contains("\n")) {
            throw ShardSchemaException.error("a " + what + " with a double quote or a line break cannot be passed to"
                    + " pt-osc through an option file");
        }
        return "\"" + value.replace("\\", "\\\\") + "\"";
    }

    /** Percentage and seconds remaining, from one of pt-osc's progress lines. */
    public record Progress(int percent, int etaSeconds) {
    }

    public static Optional<Progress> progress(String line) {
        Matcher m = PROGRESS.matcher(line);
        if (!m.find()) {
            return Optional.empty();
        }
        int seconds = 0;
        for (String part : m.group(2).split(":")) {
            seconds = seconds * 60 + Integer.parseInt(part);
        }
        return Optional.of(new Progress(Integer.parseInt(m.group(1)), seconds));
    }
}
