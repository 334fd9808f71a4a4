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

        // Each command starts the embedded server and stops it on exit; the catalog survives in between.
        assertThat(Cli.run(cfg, "init").exit()).isZero();
        Cli.Result add = Cli.run(cfg, "shard", "add", "--schema", "demo_shard_001", "--dsn",
                "root@tcp(127.0.0.1:" + Files.readString(dir.resolve("home").resolve("port")).strip() + ")/");
        assertThat(add.exit()).as(add.all()).isZero();
        Cli.Result list = Cli.run(cfg, "shard", "list", "--json");
        assertThat(list.json().get("shards")).hasSize(1);
        assertThat(Cli.run(cfg, "version", "add", "--table", "users", "--command", "ADD COLUMN nick VARCHAR(20)").exit()).isZero();
        Cli.Result run = Cli.run(cfg, "run", "--json");
        assertThat(run.exit()).as(run.all()).isZero();
        assertThat(run.json().at("/summary/applied").asInt()).isEqualTo(1);
        assertThat(Cli.run(cfg, "status", "--json").json().at("/versions/0/done").asInt()).isEqualTo(1);
    }
}
