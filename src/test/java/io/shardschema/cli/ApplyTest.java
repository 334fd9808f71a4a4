package io.shardschema.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.shardschema.testing.Cli;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** `apply FILE`: the desired state, idempotent, history immutable, malformed files refused with the line. */
class ApplyTest {
    private static TestFleet fleet;
    private static String server;

    @BeforeAll
    static void setUp() {
        fleet = TestFleet.create(TestServers.shared(), "apply", 3);
        server = "root@tcp(127.0.0.1:" + fleet.shardServer.port() + ")/";
    }

    private static Path yaml(String name, String text) throws IOException {
        return Files.writeString(fleet.dir.resolve(name), text);
    }

    private static String discover() {
        return "discover:\n  - dsn: \"" + server + "\"\n    like: '" + fleet.prefix + "\\_s%'\n";
    }

    private static final String TWO_VERSIONS = """
            versions:
              - table: t
                command: ADD COLUMN c INT NULL
              - version: 2
                table: t
                command: ADD INDEX idx_v (v)
            """;

    @Test
    void appliesOnceThenChangesNothingAndRefusesRewrittenHistory() throws IOException {
        Path file = yaml("fleet.yaml", discover() + TWO_VERSIONS);

        Cli.Result plan = Cli.run(fleet.configFile, "apply", file.toString(), "--check", "--json");
        assertThat(plan.exit()).as(plan.all()).isZero();
        assertThat(plan.json().get("changed").asBoolean()).isTrue();
        assertThat(plan.json().at("/shards/added")).hasSize(3);
        assertThat(plan.json().at("/shards/added/0/id").isNull()).isTrue();
        assertThat(plan.json().at("/versions/added")).hasSize(2);
        assertThat(plan.json().at("/rollout/behind").asInt()).isEqualTo(3);
        assertThat(Cli.run(fleet.configFile, "shard", "list", "--json").json().get("shards")).isEmpty();
        assertThat(Cli.run(fleet.configFile, "version", "list", "--json").json().get("versions")).isEmpty();

        Cli.Result first = Cli.run(fleet.configFile, "apply", file.toString(), "--run", "--json");
        assertThat(first.exit()).as(first.all()).isZero();
        JsonNode r = first.json();
        assertThat(r.get("changed").asBoolean()).isTrue();
        assertThat(r.at("/shards/added/0/id").asLong()).isPositive();
        assertThat(r.at("/shards/added/0/schema").asText()).isEqualTo(fleet.schemas.get(0));
        assertThat(r.at("/versions/added/1/statement").asText()).contains("ADD INDEX");
        assertThat(r.at("/rollout/ran").asBoolean()).isTrue();
        assertThat(r.at("/rollout/applied").asInt()).isEqualTo(6);
        JsonNode status = Cli.run(fleet.configFile, "status", "--json").json();
        assertThat(status.at("/versions/1/done").asInt()).as(status.toString()).isEqualTo(3);
        assertThat(fleet.shardCount("SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA LIKE '"
                + fleet.prefix + "\\_s%' AND INDEX_NAME = 'idx_v'")).isEqualTo(3);

        for (String[] args : new String[][]{{"--json"}, {"--check", "--run", "--json"}}) {
            String[] all = new String[args.length + 2];
            all[0] = "apply";
            all[1] = file.toString();
            System.arraycopy(args, 0, all, 2, args.length);
            Cli.Result again = Cli.run(fleet.configFile, all);
            assertThat(again.exit()).as(again.all()).isZero();
            assertThat(again.json().get("changed").asBoolean()).as(again.all()).isFalse();
            assertThat(again.json().get("summary").asText()).startsWith("nothing to change: 3 shards and 2 versions")
                    .contains("every shard at version 2");
        }
        assertThat(Cli.run(fleet.configFile, "apply", file.toString()).out()).startsWith("nothing to change");

        Path rewritten = yaml("rewritten.yaml", discover() + TWO_VERSIONS.replace("ADD INDEX idx_v (v)",
                "ADD INDEX idx_v (v, id)") + "  - table: t\n    command: ADD COLUMN d INT NULL\n");
        Cli.Result refused = Cli.run(fleet.configFile, "apply", rewritten.toString());
        assertThat(refused.exit()).as(refused.all()).isEqualTo(4);
        assertThat(refused.out()).isEmpty();
        assertThat(refused.err()).contains("version 2 differs from its declaration", "-command: ADD INDEX idx_v (v)",
                "+command: ADD INDEX idx_v (v, id)", "rewritten.yaml line 7", "nothing was written");
        assertThat(Cli.run(fleet.configFile, "version", "list", "--json").json().get("versions")).hasSize(2);

        Path shorter = yaml("shorter.yaml", discover() + "versions:\n  - table: t\n    command: ADD COLUMN c INT NULL\n");
        Cli.Result undeclared = Cli.run(fleet.configFile, "apply", shorter.toString());
        assertThat(undeclared.exit()).as(undeclared.all()).isEqualTo(4);
        assertThat(undeclared.err()).contains("version 2 (ALTER TABLE `t` ADD INDEX idx_v (v)) is in the catalog but");
    }

    @Test
    void addsExplicitShardsPreflightsInTheCheckAndPrunesWhatIsNoLongerDeclared() throws IOException {
        TestFleet own = TestFleet.create(TestServers.shared(), "applyprune", 3);
        String dsn = "root@tcp(127.0.0.1:" + own.shardServer.port() + ")/";
        String shards = "shards:\n" + own.schemas.stream().map(s -> "  - schema: " + s + "\n    dsn: \"" + dsn + "\"\n")
                .reduce("", String::concat);
        Path file = Files.writeString(own.dir.resolve("fleet.yaml"), shards + "versions:\n  - table: t\n"
                + "    command: ADD COLUMN c INT NULL\n");
        assertThat(Cli.run(own.configFile, "apply", file.toString(), "--run").exit()).isZero();

        // A new version that fails its preflight is refused by the check already, nothing written.
        Path broken = Files.writeString(own.dir.resolve("broken.yaml"), Files.readString(file)
                + "  - table: t\n    command: DROP COLUMN nope\n");
        Cli.Result check = Cli.run(own.configFile, "apply", broken.toString(), "--check");
        assertThat(check.exit()).as(check.all()).isEqualTo(4);
        assertThat(check.err()).contains("broken.yaml line 11 (version 2)", "fails its preflight", "nope");

        // Two shards left out, prune on: they go; the one a runner would work is kept (none here).
        Path pruned = Files.writeString(own.dir.resolve("pruned.yaml"), "prune: true\nshards:\n  - schema: "
                + own.schemas.get(0) + "\n    dsn: \"" + dsn + "\"\nversions:\n  - table: t\n"
                + "    command: ADD COLUMN c INT NULL\n");
        Cli.Result planned = Cli.run(own.configFile, "apply", pruned.toString(), "--check", "--json");
        assertThat(planned.json().at("/shards/removed")).hasSize(2);
        assertThat(Cli.run(own.configFile, "shard", "list", "--json").json().get("shards")).hasSize(3);
        Cli.Result done = Cli.run(own.configFile, "apply", pruned.toString());
        assertThat(done.exit()).as(done.all()).isZero();
        assertThat(done.out()).containsPattern("removed shard \\d+ \\(" + own.schemas.get(1) + "@127.0.0.1:"
                + own.shardServer.port() + "\\)");
        assertThat(Cli.run(own.configFile, "shard", "list", "--json").json().get("shards")).hasSize(1);
    }

    @Test
    void aShardDeclaredAgainStartsWhereItsSchemaIsAndDoubtfulDeclarationsAreRefused() throws IOException {
        TestFleet own = TestFleet.create(TestServers.shared(), "applyagain", 3);
        String dsn = "root@tcp(127.0.0.1:" + own.shardServer.port() + ")/";
        String versions = "versions:\n  - table: t\n    command: ADD COLUMN c INT NULL\n";
        java.util.function.Function<Integer, String> entry = i -> "  - schema: " + own.schemas.get(i) + "\n    dsn: \""
                + dsn + "\"\n";
        Path both = Files.writeString(own.dir.resolve("both.yaml"), "shards:\n" + entry.apply(0) + entry.apply(1)
                + versions);
        assertThat(Cli.run(own.configFile, "apply", both.toString(), "--run").exit()).isZero();
        Path one = Files.writeString(own.dir.resolve("one.yaml"), "prune: true\nshards:\n" + entry.apply(0) + versions);
        assertThat(Cli.run(own.configFile, "apply", one.toString()).exit()).isZero();

        // Declared again, the pruned shard starts at version 1 (its schema is the one expected there), not at 0.
        Cli.Result again = Cli.run(own.configFile, "apply", both.toString(), "--run", "--json");
        assertThat(again.exit()).as(again.all()).isZero();
        assertThat(again.json().at("/shards/added")).hasSize(1);
        assertThat(again.json().get("notes").toString()).contains(own.schemas.get(1), "starts at version 1");
        assertThat(again.json().at("/rollout/behind").asInt()).isZero();
        long id = again.json().at("/shards/added/0/id").asLong();
        JsonNode runs = Cli.run(own.configFile, "log", "--shard", String.valueOf(id), "--json").json();
        assertThat(runs.toString()).contains("baselined").doesNotContain("applied").doesNotContain("failed");

        // A schema that is neither where version 1 starts nor at any version is refused, nothing written.
        own.execute("ALTER TABLE `" + own.schemas.get(2) + "`.t ADD COLUMN z INT NULL");
        Path odd = Files.writeString(own.dir.resolve("odd.yaml"), "shards:\n" + entry.apply(0) + entry.apply(1)
                + entry.apply(2) + versions);
        Cli.Result refused = Cli.run(own.configFile, "apply", odd.toString(), "--check");
        assertThat(refused.exit()).as(refused.all()).isEqualTo(4);
        assertThat(refused.err()).contains(own.schemas.get(2) + "@127.0.0.1:" + own.shardServer.port(), "odd.yaml line 6: shard",
                "is not what version 1 starts from", "`z` int", "nothing was written");
        assertThat(Cli.run(own.configFile, "apply", odd.toString()).exit()).isEqualTo(4);
        assertThat(Cli.run(own.configFile, "shard", "list", "--json").json().get("shards")).hasSize(2);

        // One shard declared twice (here under two spellings of its server) is refused, naming both lines.
        Path twice = Files.writeString(own.dir.resolve("twice.yaml"), "shards:\n" + entry.apply(0) + entry.apply(1)
                + entry.apply(1).replace("127.0.0.1", "localhost") + versions);
        Cli.Result duplicate = Cli.run(own.configFile, "apply", twice.toString());
        assertThat(duplicate.exit()).as(duplicate.all()).isEqualTo(4);
        assertThat(duplicate.err()).contains("twice.yaml lines 4 and 6 declare the same shard", "are one server");

        // With prune on, a discover rule that finds nothing is refused rather than taken as "remove them all".
        Path empty = Files.writeString(own.dir.resolve("empty.yaml"), "prune: true\ndiscover:\n  - dsn: \"" + dsn
                + "\"\n    like: 'no\\_such\\_schema%'\n" + versions);
        Cli.Result gone = Cli.run(own.configFile, "apply", empty.toString());
        assertThat(gone.exit()).as(gone.all()).isEqualTo(4);
        assertThat(gone.err()).contains("empty.yaml line 3", "matches no schema, and prune is on");
        assertThat(Cli.run(own.configFile, "shard", "list", "--json").json().get("shards")).hasSize(2);

        // What apply does not change on a registered shard is said, not silently ignored.
        Path replica = Files.writeString(own.dir.resolve("replica.yaml"), "shards:\n" + entry.apply(0)
                + "    replicas: [\"root@tcp(localhost:" + own.shardServer.port() + ")/\"]\n" + entry.apply(1) + versions);
        Cli.Result noted = Cli.run(own.configFile, "apply", replica.toString());
        assertThat(noted.exit()).as(noted.all()).isZero();
        assertThat(noted.out()).startsWith("nothing to change").contains("apply does not change a registered shard's replicas");
    }

    @Test
    void versionsWhosePreflightCannotRunAreRefusedBeforeAnythingIsWritten() throws IOException {
        TestFleet own = TestFleet.create(TestServers.shared(), "applynohost", 1);
        String shard = "shards:\n  - schema: " + own.schemas.get(0) + "\n    dsn: \"root@tcp(127.0.0.1:"
                + own.shardServer.port() + ")/\"\n";
        String[][] cases = {
                {"versions:\n  - table: t\n    command: ADD COLUMN c INT NULL\n",
                        "line 2 (version 1): its preflight runs on a shard's server, and no shard is registered"},
                {shard + "versions:\n  - table: t\n    command: ADD COLUMN c INT NULL\n    preflight: false\n"
                        + "  - table: t\n    command: ADD COLUMN d INT NULL\n",
                        "line 8 (version 2): its preflight would start from version 1, which this apply adds without"},
        };
        for (String[] c : cases) {
            Path file = Files.writeString(own.dir.resolve("nohost.yaml"), c[0]);
            for (String mode : List.of("--check", "--run")) {
                Cli.Result r = Cli.run(own.configFile, "apply", file.toString(), mode);
                assertThat(r.exit()).as(c[0] + r.all()).isEqualTo(4);
                assertThat(r.err()).contains(c[1], "nothing was written");
            }
        }
        assertThat(Cli.run(own.configFile, "shard", "list", "--json").json().get("shards")).isEmpty();
        assertThat(Cli.run(own.configFile, "version", "list", "--json").json().get("versions")).isEmpty();
    }

    @Test
    void malformedFilesAreRefusedNamingTheLineAndField() throws IOException {
        String[][] cases = {
                {"versions:\n  - table: t\n    tabel: x\n    command: ADD COLUMN c INT\n",
                        "line 3", "unknown field tabel", "known: "},
                {"versions:\n  - table: t\n", "line 2", "a version needs exactly one of command and file"},
                {"versions:\n  - table: t\n    command: ADD COLUMN c INT\n  - version: 3\n    table: t\n"
                        + "    command: ADD COLUMN d INT\n", "line 4", "version: 3 is entry 2"},
                {"versions:\n  - table: t\n    command: ADD COLUMN c INT\n    type: online\n", "type online is unknown"},
                {"prune: maybe\n", "line 1", "prune"},
                {"shards:\n  - schema: a\n    schema: b\n    dsn: x\n", "line 3", "Duplicate field 'schema'"},
                {"versions: [\n", "line 2"},
                {"versions:\n  - table: t\n    file: missing.sql\n", "line 2", "cannot read the file of version 1"},
                {"versions:\n  - table: t\n    file: /dev/zero\n", "line 2", "/dev/zero: it is not in"},
                {"versions:\n  - table: t\n    file: ../../../pom.xml\n", "line 2", "pom.xml: it is not in"},
                {"versions:\n  - table: t\n    file: .\n", "line 2", "not a regular file"},
                {"versions:\n  - table: t\n    command: ADD COLUMN c INT\n    force: \"\\u001b[2Jyes\"\n", "line 4",
                        "field versions.force"},
                {"", "is empty"},
                {"discover:\n  - dsn: &db x\n    like: a\n  - dsn: *db\n    like: b\n", "line 4", "aliases"},
                {"versions:\n  - table: t\n    command: ADD COLUMN c INT\n    options: {chunk-size: ~}\n",
                        "line 2", "an option has no value"},
        };
        int i = 0;
        for (String[] c : cases) {
            Path file = yaml("bad" + i++ + ".yaml", c[0]);
            Cli.Result r = Cli.run(fleet.configFile, "apply", file.toString(), "--json");
            assertThat(r.exit()).as(c[0] + "\n" + r.all()).isEqualTo(2);
            assertThat(r.out()).isEmpty();
            assertThat(r.err()).as("no control character of the file is echoed").doesNotContain("\u001b");
            for (int k = 1; k < c.length; k++) {
                assertThat(r.err()).as(c[0]).contains(c[k]);
            }
        }
    }
}
