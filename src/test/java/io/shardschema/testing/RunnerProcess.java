package io.shardschema.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A `shardschema run` (or another command) as a real child JVM, so a test can SIGKILL it midway. */
public final class RunnerProcess {
    private final Process process;
    public final Path stdout;
    public final Path stderr;

    private RunnerProcess(Process process, Path stdout, Path stderr) {
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    public static RunnerProcess start(TestFleet fleet, String name, String... extraArgs) {
        return start(fleet, name, List.of(), extraArgs);
    }

    /** A `shardschema run` whose JVM gets {@code jvmOptions} (e.g. -Dshardschema.freezeAt=POINT). */
    public static RunnerProcess start(TestFleet fleet, String name, List<String> jvmOptions, String... extraArgs) {
        List<String> args = new ArrayList<>(List.of("run"));
        args.addAll(List.of(extraArgs));
        return command(fleet.configFile, fleet.dir, name, jvmOptions, args.toArray(String[]::new));
    }

    /** Any shardschema command, with the fleet's config. */
    public static RunnerProcess command(TestFleet fleet, String name, String... args) {
        return command(fleet.configFile, fleet.dir, name, args);
    }

    /** Any shardschema command with {@code config}; its output goes to {@code dir}/NAME.out and NAME.err. */
    public static RunnerProcess command(Path config, Path dir, String name, String... args) {
        return command(config, dir, name, List.of(), args);
    }

    private static RunnerProcess command(Path config, Path dir, String name, List<String> jvmOptions, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.shardschema.cli.Main",
                "--config", config.toString()));
        cmd.addAll(List.of(args));
        Path out = dir.resolve(name + ".out");
        Path err = dir.resolve(name + ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            return new RunnerProcess(p, out, err);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** For a `serve` process: waits (up to 60 s) for its "serving http://HOST:PORT/" line; returns http://HOST:PORT. */
    public String awaitServing() {
        java.util.regex.Pattern url = java.util.regex.Pattern.compile("serving (http://[^/\\s]+)/");
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (!alive()) {
                throw new IllegalStateException("serve exited before listening:\n" + output());
            }
            try {
                java.util.regex.Matcher m = url.matcher(Files.readString(stdout));
                if (m.find()) {
                    return m.group(1);
                }
                Thread.sleep(100);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException("serve did not print its address within 60 s:\n" + output());
    }

    /** SIGTERM: the process may shut down in order. */
    public void terminate() {
        process.destroy();
    }

    /** SIGKILL. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public int waitFor(long seconds) {
        try {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("runner did not finish within " + seconds + " s; stderr:\n" + output());
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** SIGSTOP: the whole process freezes, as in a GC pause or a VM freeze; its sockets stay open. */
    public void freeze() {
        signal("STOP");
    }

    /** SIGCONT: a frozen process goes on where it stopped. */
    public void thaw() {
        signal("CONT");
    }

    /** Whether the process is stopped (by SIGSTOP, its own or ours): state T in /proc. */
    public boolean frozen() {
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(process.pid()), "stat"));
            // "pid (comm) S ...": the state follows the command name's closing parenthesis.
            return stat.substring(stat.lastIndexOf(')') + 2).startsWith("T");
        } catch (IOException e) {
            return false;
        }
    }

    private void signal(String name) {
        try {
            int exit = new ProcessBuilder("kill", "-" + name, String.valueOf(process.pid())).inheritIO().start().waitFor();
            if (exit != 0) {
                throw new IllegalStateException("kill -" + name + " " + process.pid() + " exited " + exit);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public String output() {
        try {
            return Files.readString(stdout) + Files.readString(stderr);
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

}
