package io.shardschema.contrib;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Ansible collection in contrib/ansible: real ansible-playbook runs of {@code shardschema.fleet.apply} against
 * a fleet on a real MariaDB, through a {@code shardschema} executable that runs this build's classes. The catalog
 * account has a password (in the config file only), which must never show in what Ansible prints.
 */
class AnsibleModuleTest {
    private static final Path COLLECTIONS = Path.of("contrib", "ansible").toAbsolutePath();
    private static final Pattern RECAP = Pattern.compile(
            "localhost\\s*:\\s*ok=(\\d+)\\s+changed=(\\d+)\\s+unreachable=(\\d+)\\s+failed=(\\d+)");
    private static final ObjectMapper JSON = new ObjectMapper();

    private TestFleet fleet;
    /** The catalog account's password: written to the config file only. */
    private String password;
    private Path work;
    private Path fleetFile;
    private Path executable;
    private int playbookRuns;

    /** One ansible-playbook run: its exit code, everything it printed, its recap, and the task's result. */
    private record Playbook(int exit, String output, int ok, int changed, int failed, JsonNode task) {
    }

    @Test
    void playbooksBringTheFleetToTheDeclaredStateWithCheckDiffAndRefusals() throws Exception {
        TestTools.ensureAnsible();
        fleet = TestFleet.create(TestServers.shared(), "ansible", 3);
        String user = fleet.prefix;
        password = "Ans-" + UUID.randomUUID().toString().substring(0, 12);
        fleet.execute("CREATE USER '" + user + "'@'127.0.0.1' IDENTIFIED BY '" + password + "'");
        fleet.execute("GRANT ALL ON *.* TO '" + user + "'@'127.0.0.1'");
        String server = "tcp(127.0.0.1:" + fleet.server.port() + ")/";
        fleet.set("dbDSN", user + ":" + password + "@" + server + fleet.prefix + "_catalog");
        fleet.set("maxRuns", "1");
        // The fleet's folder and the executable's: a shell would split, expand or run parts of these names.
        work = Files.createDirectories(fleet.dir.resolve("ansible $HOME 'q' \"d\"; x"));
        fleetFile = work.resolve("fleet.yaml");
        executable = writeExecutable(work.resolve("shardschema"));
        // The shards are on the catalog's server as the catalog's user: no password in the file.
        String shardDsn = user + "@" + server;
        String like = fleet.prefix + "\\_s%";
        List<String> twoVersions = List.of("ADD COLUMN c1 INT NULL", "ADD INDEX idx_v (v)");

        writeFleet(shardDsn, like, twoVersions);
        Playbook first = play(true);
        assertThat(first.exit()).as(first.output()).isZero();
        assertThat(first.changed()).as(first.output()).isEqualTo(1);
        assertThat(first.task().at("/result/shards/added")).hasSize(3);
        assertThat(first.task().at("/result/versions/added")).hasSize(2);
        assertThat(first.task().at("/result/rollout/ran").asBoolean()).isTrue();
        assertThat(first.task().at("/result/rollout/failed").asInt()).isZero();
        assertThat(first.task().at("/summary").asText()).isEqualTo(first.task().at("/result/summary").asText())
                .isNotBlank();
        JsonNode rolledOut = status();
        assertThat(rolledOut.at("/shards").asInt()).isEqualTo(3);
        assertThat(rolledOut.at("/versions")).hasSize(2);
        assertThat(rolledOut.at("/versions/1/done").asInt()).isEqualTo(3);
        assertThat(shardsWithIndex("idx_v")).isEqualTo(3);

        Playbook again = play(true);
        assertThat(again.exit()).as(again.output()).isZero();
        assertThat(again.changed()).as(again.output()).isZero();
        assertThat(again.ok()).isEqualTo(1);
        assertThat(again.task().at("/result/changed").asBoolean()).isFalse();

        // Version 3 adds a unique key, which the duplicate on the second shard will make fail there.
        fleet.execute("INSERT INTO `" + fleet.schemas.get(1) + "`.t (id, v) VALUES (4, 'a')");
        List<String> threeVersions = List.of(twoVersions.get(0), twoVersions.get(1), "ADD UNIQUE KEY uv (v)");
        writeFleet(shardDsn, like, threeVersions);
        Playbook check = play(true, "--check", "--diff");
        assertThat(check.exit()).as(check.output()).isZero();
        assertThat(check.changed()).as(check.output()).isEqualTo(1);
        assertThat(check.task().at("/result/check").asBoolean()).isTrue();
        assertThat(check.task().at("/result/versions/added/0/version").asInt()).isEqualTo(3);
        assertThat(check.output()).containsPattern("(?m)^\\+version 3 .*ADD UNIQUE KEY uv");
        assertThat(status()).as("check mode writes nothing").isEqualTo(rolledOut);
        assertThat(shardsWithIndex("uv")).isZero();

        // A registered version whose command the file changed: refused, nothing written.
        writeFleet(shardDsn, like, List.of("ADD COLUMN c1 BIGINT NULL", twoVersions.get(1), threeVersions.get(2)));
        Playbook tampered = play(true);
        assertThat(tampered.failed()).as(tampered.output()).isEqualTo(1);
        String message = tampered.task().at("/msg").asText();
        assertThat(message).isNotBlank().doesNotStartWith("error:");
        Cli.Result direct = Cli.run(fleet.configFile, "apply", "--check", fleetFile.toString());
        assertThat(direct.exit()).as(direct.all()).isEqualTo(4);
        assertThat(direct.err()).as("the task's msg is ShardSchema's own message").contains("error: " + message);
        assertThat(tampered.task().at("/rc").asInt()).isEqualTo(4);
        assertThat(status()).isEqualTo(rolledOut);

        // Version 3 for real: it fails on the shard with the duplicate, so the task fails, with the result.
        writeFleet(shardDsn, like, threeVersions);
        Playbook partly = play(true);
        assertThat(partly.failed()).as(partly.output()).isEqualTo(1);
        assertThat(partly.task().at("/msg").asText()).contains("some shards failed");
        assertThat(partly.task().at("/rc").asInt()).isEqualTo(3);
        assertThat(partly.task().at("/result/versions/added/0/version").asInt()).isEqualTo(3);
        assertThat(partly.task().at("/result/rollout/failed").asInt()).isEqualTo(1);
        JsonNode afterFailure = status();
        assertThat(afterFailure.at("/versions/2/done").asInt()).isEqualTo(2);
        assertThat(afterFailure.at("/versions/2/failed").asInt()).isEqualTo(1);
        assertThat(shardsWithIndex("uv")).isEqualTo(2);

        // Version 4 copies the table, which the guard refuses on the shards that reach it (more than 1 row each).
        fleet.set("guardCopyRows", "1");
        List<String> fourVersions = new ArrayList<>(threeVersions);
        fourVersions.add("MODIFY c1 BIGINT NULL");
        writeFleet(shardDsn, like, fourVersions);
        Playbook guarded = play(true);
        assertThat(guarded.failed()).as(guarded.output()).isEqualTo(1);
        assertThat(guarded.task().at("/rc").asInt()).isEqualTo(4);
        assertThat(guarded.task().at("/msg").asText()).contains("refused by a safety check");
        assertThat(guarded.task().at("/result/versions/added/0/version").asInt()).isEqualTo(4);
        assertThat(guarded.task().at("/changed").asBoolean()).isTrue();
        assertThat(fleet.count("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA LIKE '"
                + fleet.prefix + "\\_s%' AND COLUMN_NAME = 'c1' AND DATA_TYPE = 'bigint'")).isZero();
    }

    /** `shardschema` as the module finds it on a host: here this build's classes, as the jar is not built by tests. */
    private static Path writeExecutable(Path path) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Files.writeString(path, "#!/bin/sh\n"
                // A short-lived command on a shared machine: start quickly rather than optimise.
                + "exec " + shellQuoted(java) + " -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "
                + shellQuoted(System.getProperty("java.class.path")) + " io.shardschema.cli.Main \"$@\"\n");
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwx------"));
        return path;
    }

    private static String shellQuoted(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    private void writeFleet(String shardDsn, String like, List<String> commands) throws IOException {
        StringBuilder yaml = new StringBuilder("discover:\n")
                .append("  - dsn: ").append(yamlQuoted(shardDsn)).append('\n')
                .append("    like: ").append(yamlQuoted(like)).append('\n')
                .append("versions:\n");
        for (String command : commands) {
            yaml.append("  - table: t\n    command: ").append(yamlQuoted(command)).append('\n');
        }
        Files.writeString(fleetFile, yaml);
    }

    private static String yamlQuoted(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    /** Runs a one-task playbook of shardschema.fleet.apply with ansible-playbook's {@code flags}. */
    private Playbook play(boolean run, String... flags) throws Exception {
        Path dir = Files.createDirectories(fleet.dir.resolve("playbook-" + ++playbookRuns));
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("path", fleetFile.toString());
        args.put("executable", executable.toString());
        args.put("config", fleet.configFile.toString());
        args.put("run", run);
        args.put("workers", 2);
        Map<String, Object> play = new LinkedHashMap<>();
        play.put("hosts", "localhost");
        play.put("connection", "local");
        play.put("gather_facts", false);
        play.put("tasks", List.of(Map.of("name", "fleet", "shardschema.fleet.apply", args)));
        // JSON is YAML: Jackson quotes the hostile paths correctly.
        Path playbook = dir.resolve("playbook.yml");
        JSON.writeValue(playbook.toFile(), List.of(play));
        Path inventory = dir.resolve("inventory.yml");
        JSON.writeValue(inventory.toFile(), Map.of("all", Map.of("hosts", Map.of("localhost", Map.of(
                "ansible_connection", "local", "ansible_python_interpreter", "{{ ansible_playbook_python }}")))));
        Path ansibleConfig = Files.writeString(dir.resolve("ansible.cfg"), "[defaults]\n");
        Path home = Files.createDirectories(dir.resolve("home"));
        Path tree = dir.resolve("tree");

        // -v: ok results are printed too, so a password in any of them would show.
        List<String> command = new ArrayList<>(List.of("ansible-playbook", "-v", "-i", inventory.toString(),
                playbook.toString()));
        command.addAll(List.of(flags));
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("output").toFile());
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("ANSIBLE_") || k.equals("SHARDSCHEMA_CONFIG"));
        env.put("HOME", home.toString());
        env.put("ANSIBLE_CONFIG", ansibleConfig.toString());
        env.put("ANSIBLE_LOCAL_TEMP", home.resolve("tmp").toString());
        env.put("ANSIBLE_REMOTE_TEMP", home.resolve("remote-tmp").toString());
        env.put("ANSIBLE_COLLECTIONS_PATH", COLLECTIONS.toString());
        env.put("ANSIBLE_NOCOLOR", "1");
        // The tree callback writes the task's whole result as JSON (ansible-core has no json stdout callback).
        env.put("ANSIBLE_CALLBACKS_ENABLED", "ansible.builtin.tree");
        env.put("ANSIBLE_CALLBACK_TREE_DIR", tree.toString());
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("ansible-playbook did not finish within 120 s:\n"
                    + Files.readString(dir.resolve("output")));
        }
        String output = Files.readString(dir.resolve("output"));
        String result = Files.readString(tree.resolve("localhost"));
        assertThat(output + result).as("ansible's output").doesNotContain(password);
        Matcher recap = RECAP.matcher(output);
        assertThat(recap.find()).as(output).isTrue();
        return new Playbook(p.exitValue(), output, Integer.parseInt(recap.group(1)), Integer.parseInt(recap.group(2)),
                Integer.parseInt(recap.group(4)), JSON.readTree(result));
    }

    private JsonNode status() {
        Cli.Result status = Cli.run(fleet.configFile, "status", "--json");
        assertThat(status.exit()).as(status.all()).isZero();
        // Only the rollout's counts: the runners seen and the throttle's state are not the fleet's state.
        JsonNode json = status.json();
        return JSON.createObjectNode().put("shards", json.get("shards").asInt()).set("versions", json.get("versions"));
    }

    private int shardsWithIndex(String index) {
        return fleet.count("SELECT COUNT(DISTINCT TABLE_SCHEMA) FROM information_schema.STATISTICS"
                + " WHERE TABLE_SCHEMA LIKE '" + fleet.prefix + "\\_s%' AND TABLE_NAME = 't' AND INDEX_NAME = '" + index
                + "'");
    }
}
