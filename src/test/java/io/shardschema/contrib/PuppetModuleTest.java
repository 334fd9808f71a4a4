package io.shardschema.contrib;

import com.fasterxml.jackson.databind.JsonNode;
import io.shardschema.testing.Cli;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import io.shardschema.testing.TestTools;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Puppet module in contrib/puppet/shardschema, run by the real `puppet apply` against a real catalog: puppet's
 * providers call a `shardschema` wrapper that runs this build's classes (the jar is not built during `mvn test`).
 * Four puppet runs: the fleet converges, stays converged, shows a pending version under --noop without writing it,
 * and a version changed in the file (or in a shardschema_version) fails with the reason.
 */
class PuppetModuleTest {
    /** The catalog account's password: only the config file holds it; no puppet output may show it. */
    private static final String SECRET = "Pp-catalog-pw-4Zr";
    private static final Path MODULE_PATH = Path.of("contrib", "puppet").toAbsolutePath();

    private record PuppetRun(int exit, String output) {
    }

    @Test
    void fleetShardAndVersionResourcesConvergeAndFailOnChangedHistory() throws Exception {
        TestTools.ensurePuppet();
        TestFleet fleet = TestFleet.create(TestServers.shared(), "puppet", 3);
        String user = fleet.prefix + "_u";
        fleet.execute("CREATE USER '" + user + "'@'127.0.0.1' IDENTIFIED BY '" + SECRET + "'");
        try {
            fleet.execute("GRANT ALL ON *.* TO '" + user + "'@'127.0.0.1'");
            fleet.set("dbDSN", user + ":" + SECRET + "@tcp(127.0.0.1:" + fleet.server.port() + ")/" + fleet.prefix
                    + "_catalog");
            converges(fleet, user);
        } finally {
            fleet.execute("DROP USER '" + user + "'@'127.0.0.1'");
        }
    }

    private void converges(TestFleet fleet, String user) throws Exception {
        // Shards on the catalog's server as the catalog's user need no password in their DSN: the catalog's is used.
        String server = user + "@tcp(127.0.0.1:" + fleet.server.port() + ")/";
        String extra = fleet.prefix + "_extra";  // not matched by the discover rule: only its shardschema_shard adds it
        fleet.execute("CREATE DATABASE `" + extra + "`");
        fleet.execute("CREATE TABLE `" + extra + "`.t (id INT PRIMARY KEY, v VARCHAR(20))");
        Path work = Files.createDirectories(fleet.dir.resolve("puppet"));
        Path executable = wrapper(work);
        Path yaml = work.resolve("fleet.yaml");
        String discover = "discover:\n  - dsn: \"" + server + "\"\n    like: '" + fleet.prefix + "\\_s%'\n";
        String v1 = "  - table: t\n    command: ADD COLUMN c1 INT NULL\n";
        String v2 = "  - table: t\n    command: ADD COLUMN c2 INT NULL\n";
        String v3 = "  - table: t\n    command: ADD COLUMN c3 INT NULL\n";
        Files.writeString(yaml, discover + "versions:\n" + v1 + v2);
        String common = "executable => " + q(executable) + ", config => " + q(fleet.configFile);

        Path converge = Files.writeString(work.resolve("converge.pp"),
                "shardschema_shard { 'extra': schema => " + q(extra) + ", dsn => " + q(server) + ", " + common + " }\n"
                + "-> shardschema_fleet { " + q(yaml) + ": ensure => applied, run => true, " + common + " }\n"
                + "-> shardschema_version { '1': table => 't', command => 'ADD COLUMN c1 INT NULL', " + common + " }\n");
        PuppetRun first = puppet(work, "first", converge);
        assertThat(first.exit()).as(first.output()).isEqualTo(2);
        assertThat(first.output()).contains("Shardschema_shard[extra]/ensure: created")
                .contains("Shardschema_fleet[" + yaml + "]/ensure: applied: ")
                .doesNotContain("Shardschema_version[1]");
        assertThat(shardVersions(fleet)).hasSize(4).containsOnly(2);
        assertThat(status(fleet).at("/versions/1/done").asInt()).isEqualTo(4);
        int runs = logRows(fleet);

        PuppetRun second = puppet(work, "second", converge);
        assertThat(second.exit()).as(second.output()).isZero();
        assertThat(second.output()).doesNotContain("Shardschema_");
        assertThat(logRows(fleet)).isEqualTo(runs);

        // A third version in the file: --noop shows the plan and writes nothing.
        Files.writeString(yaml, discover + "versions:\n" + v1 + v2 + v3);
        String plan = Cli.run(fleet.configFile, "apply", yaml.toString(), "--check", "--run", "--json")
                .json().get("summary").asText();
        PuppetRun noop = puppet(work, "noop", converge, "--noop");
        assertThat(noop.exit()).as(noop.output()).isZero();
        assertThat(noop.output()).contains("Shardschema_fleet[" + yaml + "]/ensure: current_value pending (" + plan
                + "), should be 'applied' (noop)");
        assertThat(versions(fleet)).hasSize(2);
        assertThat(shardVersions(fleet)).containsOnly(2);
        assertThat(logRows(fleet)).isEqualTo(runs);

        // History changed: version 2's command differs in the file and in a shardschema_version; 5 is not the next.
        // The extra shard goes (the file's discover rule does not name it, so apply does not miss it).
        Files.writeString(yaml, discover + "versions:\n" + v1 + v2.replace("c2 INT", "c2 BIGINT") + v3);
        Path changed = Files.writeString(work.resolve("changed.pp"),
                "shardschema_version { '3': table => 't', command => 'ADD COLUMN c3 INT NULL', " + common + " }\n"
                + "-> shardschema_fleet { " + q(yaml) + ": ensure => applied, run => true, " + common + " }\n"
                + "shardschema_version { '2': table => 't', command => 'ADD COLUMN c2 BIGINT NULL', " + common + " }\n"
                + "shardschema_version { '5': table => 't', command => 'ADD COLUMN c5 INT NULL', " + common + " }\n"
                + "shardschema_shard { 'extra': ensure => absent, schema => " + q(extra) + ", dsn => " + q(server) + ", "
                + common + " }\n");
        PuppetRun refused = puppet(work, "changed", changed);
        Cli.Result check = Cli.run(fleet.configFile, "apply", yaml.toString(), "--check", "--json");
        assertThat(check.exit()).as(check.all()).isEqualTo(4);
        String reason = check.err().substring(check.err().indexOf("error: ") + "error: ".length()).lines().findFirst()
                .orElseThrow();
        assertThat(refused.exit()).as(refused.output()).isEqualTo(6);  // a change (version 3) and failures
        assertThat(refused.output()).contains("Shardschema_version[3]/ensure: created")
                .contains("Shardschema_shard[extra]/ensure: removed")
                .contains("Shardschema_fleet[" + yaml + "]").contains(reason)
                .contains("version 2 is registered with another command: command \"ADD COLUMN c2 INT NULL\", declared"
                        + " \"ADD COLUMN c2 BIGINT NULL\"")
                .contains("version 5 cannot be added: the next version is 4");
        JsonNode registered = versions(fleet);
        assertThat(registered).hasSize(3);
        assertThat(registered.get(1).get("command").asText()).isEqualTo("ADD COLUMN c2 INT NULL");
        assertThat(registered.get(2).get("command").asText()).isEqualTo("ADD COLUMN c3 INT NULL");
        assertThat(shardVersions(fleet)).hasSize(3).containsOnly(2);
    }

    /**
     * `puppet apply` with private folders (no /etc/puppet state); its output (in {@code work}/NAME.log) must never
     * show the password.
     */
    private static PuppetRun puppet(Path work, String name, Path manifest, String... flags) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("puppet", "apply", "--detailed-exitcodes", "--color=false",
                "--modulepath", MODULE_PATH.toString()));
        for (String dir : List.of("confdir", "codedir", "vardir", "logdir", "rundir", "publicdir")) {
            command.addAll(List.of("--" + dir, work.resolve("home").resolve(dir).toString()));
        }
        command.addAll(List.of(flags));
        command.add(manifest.toString());
        Path log = work.resolve(name + ".log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("puppet apply did not end within 120 s:\n" + Files.readString(log));
        }
        String output = Files.readString(log);
        assertThat(output).as("puppet's output").doesNotContain(SECRET);
        return new PuppetRun(p.exitValue(), output);
    }

    /** The `shardschema` executable puppet runs: this build's classes in a JVM tuned for short commands. */
    private static Path wrapper(Path work) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path script = Files.createDirectories(work.resolve("bin")).resolve("shardschema");
        Files.writeString(script, "#!/bin/sh\nexec " + shellQuote(java) + " -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "
                + shellQuote(System.getProperty("java.class.path")) + " io.shardschema.cli.Main \"$@\"\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    private static JsonNode status(TestFleet fleet) {
        Cli.Result r = Cli.run(fleet.configFile, "status", "--json");
        assertThat(r.exit()).as(r.all()).isZero();
        return r.json();
    }

    private static JsonNode versions(TestFleet fleet) {
        return Cli.run(fleet.configFile, "version", "list", "--json").json().get("versions");
    }

    private static List<Integer> shardVersions(TestFleet fleet) {
        JsonNode shards = Cli.run(fleet.configFile, "shard", "list", "--json").json().get("shards");
        return StreamSupport.stream(shards.spliterator(), false).map(s -> s.get("version").asInt()).toList();
    }

    private static int logRows(TestFleet fleet) {
        return fleet.count("SELECT COUNT(*) FROM `" + fleet.prefix + "_catalog`.log");
    }

    /** A single-quoted Puppet string. */
    private static String q(Object value) {
        return "'" + value.toString().replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    private static String shellQuote(String value) {
        return "'" + value.replace("'", "'\\''") + "'";
    }
}
