package io.shardschema.cli;

import io.shardschema.testing.Cli;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** With no dbDSN every command uses the embedded MariaDB, whose data persists between commands. */
class EmbeddedDefaultTest {

    @Test
    void demoAndCommandsWorkOnTheEmbeddedDefault() throws IOException {
        Path dir = Files.createDirectories(TestServers.ROOT.resolve("embedded-" + UUID.randomUUID().toString().substring(0, 6)))
                .toAbsolutePath();
        Path cfg = Files.writeString(dir.resolve("embedded.cnf"), "embeddedDir=" + dir.resolve("home") + "\n"
                + "throttlingFile=" + dir.resolve("throttle") + "\nstopFile=" + dir.resolve("stop") + "\n");

        Cli.Result demo = Cli.run(cfg, "demo", "--shards", "12", "--json");
        assertThat(demo.exit()).as(demo.all()).isZero();
        assertThat(demo.json().at("/status/shards").asInt()).isEqualTo(12);
        assertThat(demo.json().at("/status/versions/2/done").asInt()).isEqualTo(12);
        assertThat(demo.json().at("/run/summary/applied").asInt()).isEqualTo(36);

        // Each command starts the embedded server and stops it on exit; the demo's fleet is the default catalog's.
        assertThat(Cli.run(cfg, "init").exit()).isZero();
        Cli.Result status = Cli.run(cfg, "status", "--json");
        assertThat(status.json().get("shards").asInt()).as(status.all()).isEqualTo(12);
        String server = "root@tcp(127.0.0.1:" + Files.readString(dir.resolve("home").resolve("port")).strip() + ")/";
        Cli.Result found = Cli.run(cfg, "shard", "discover", "--dsn", server, "--like", "demo\\_shard\\_%", "--json");
        assertThat(found.json().get("alreadyRegistered").asInt()).as(found.all()).isEqualTo(12);
        assertThat(Cli.run(cfg, "version", "add", "--table", "users", "--command", "ADD COLUMN nick VARCHAR(20)").exit()).isZero();
        Cli.Result run = Cli.run(cfg, "run", "--json");
        assertThat(run.exit()).as(run.all()).isZero();
        assertThat(run.json().at("/summary/applied").asInt()).isEqualTo(12);
        assertThat(Cli.run(cfg, "status", "--json").json().at("/versions/3/done").asInt()).isEqualTo(12);

        // A second demo starts over, smaller; it is refused while the catalog holds a shard it did not make.
        Cli.Result again = Cli.run(cfg, "demo", "--shards", "3", "--json");
        assertThat(again.exit()).as(again.all()).isZero();
        assertThat(Cli.run(cfg, "status", "--json").json().get("shards").asInt()).isEqualTo(3);
        assertThat(Cli.run(cfg, "shard", "add", "--schema", "mysql", "--dsn", server).exit()).isZero();
        Cli.Result refused = Cli.run(cfg, "demo", "--shards", "3");
        assertThat(refused.exit()).isEqualTo(4);
        assertThat(refused.err()).contains("holds shards the demo did not make", "mysql");
        assertThat(Cli.run(cfg, "shard", "list", "--json").json().get("shards")).hasSize(4);
    }
}
