package io.shardschema.cli;

import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's "Try it on a laptop" block, run line by line as a new user pastes it: no configuration, a fresh
 * home, `./shardschema` in the working directory (here a launcher of the test's classes, as the jar is not built
 * during `mvn test`).
 */
class ReadmeWalkthroughTest {

    static List<String> walkthrough() throws IOException {
        List<String> lines = Files.readAllLines(Path.of("README.md"));
        int section = lines.indexOf("## Try it on a laptop");
        assertThat(section).as("README has its walkthrough section").isNotNegative();
        int start = lines.subList(section, lines.size()).indexOf("```sh") + section + 1;
        int end = lines.subList(start, lines.size()).indexOf("```") + start;
        List<String> commands = new ArrayList<>();
        for (String line : lines.subList(start, end)) {
            if (!line.isBlank() && !line.strip().startsWith("#")) {
                commands.add(line.strip());
            }
        }
        return commands;
    }

    @Test
    void theReadmeWalkthroughWorksPastedLineByLine() throws Exception {
        assertThat(Path.of("/etc/ShardSchema.cnf")).as("a system config would change what a new user sees").doesNotExist();
        Path dir = Files.createDirectories(TestServers.ROOT.resolve("walkthrough-" + UUID.randomUUID().toString()
                .substring(0, 6))).toAbsolutePath();
        Path home = Files.createDirectories(dir.resolve("home"));
        Path launcher = dir.resolve("shardschema");
        Files.writeString(launcher, "#!/bin/sh\nexec '" + Path.of(System.getProperty("java.home"), "bin", "java")
                + "' -Duser.home='" + home + "' -cp '" + System.getProperty("java.class.path")
                + "' io.shardschema.cli.Main \"$@\"\n");
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwx------"));

        List<String> commands = walkthrough();
        assertThat(commands).as("the walkthrough").hasSizeGreaterThanOrEqualTo(5)
                .allMatch(c -> c.startsWith("./shardschema "));
        StringBuilder all = new StringBuilder();
        for (String command : commands) {
            ProcessBuilder pb = new ProcessBuilder("bash", "-c", command).directory(dir.toFile())
                    .redirectErrorStream(true);
            pb.environment().remove("SHARDSCHEMA_CONFIG");
            Process p = pb.start();
            String output = new String(p.getInputStream().readAllBytes());
            assertThat(p.waitFor(180, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(command + "\n" + output).isZero();
            all.append("$ ").append(command).append('\n').append(output);
        }
        String password = Files.readString(home.resolve(".shardschema").resolve("root-password")).strip();
        assertThat(all.toString()).doesNotContain(password)
                .contains("next, on the demo's fleet:", "20 shards", "root@tcp(127.0.0.1:");
        Files.writeString(dir.resolve("walkthrough.log"), all);
    }
}
