package io.shardschema.runner;

import io.shardschema.change.PtOsc;
import io.shardschema.config.LocalFiles;
import io.shardschema.testing.OtherUser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The files a runner writes under logDir (run logs, pt-osc's option and pause files) go only into a directory of
 * this user's that nobody else can write, and never through a link another user planted. Real files, no catalog:
 * nothing here reaches a log row.
 */
class RunOutputTest {
    @TempDir
    Path dir;

    @Test
    void aLinkPlantedWhereARunLogGoesIsNotFollowed() throws IOException {
        Path logDir = dir.resolve("logs");
        Path victim = Files.writeString(dir.resolve("victim"), "untouched\n");
        Files.createDirectory(logDir);
        Files.createSymbolicLink(logDir.resolve("shard-1-v2-run3.log"), victim);
        assertThatThrownBy(() -> new RunOutput(null, logDir, 1, 2, 3)).isInstanceOf(IOException.class);
        assertThat(victim).hasContent("untouched");
    }

    @Test
    void logDirIsMadePrivateAndOneOthersCanWriteOrOwnIsRefused() throws IOException {
        Path made = dir.resolve("made").resolve("logs");
        try (RunOutput out = new RunOutput(null, made, 1, 1, 1)) {
            out.line("hello");
        }
        assertThat(Files.getPosixFilePermissions(made)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(made.resolve("shard-1-v1-run1.log")).hasContent("hello");

        Path open = Files.createDirectory(dir.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertThatThrownBy(() -> new RunOutput(null, open, 1, 1, 1)).hasMessageContaining("writable by other users");
        assertThatThrownBy(() -> PtOsc.prepareWorkDir(open)).hasMessageContaining("writable by other users")
                .hasMessageContaining("chmod 700 " + open);
        assertThat(open).isEmptyDirectory();

        Path linked = Files.createSymbolicLink(dir.resolve("linked"), made);
        assertThatThrownBy(() -> PtOsc.prepareWorkDir(linked)).hasMessageContaining("is a symbolic link");

        Path theirs = OtherUser.give(Files.createDirectory(dir.resolve("theirs")));
        assertThatThrownBy(() -> new RunOutput(null, theirs, 1, 1, 1)).hasMessageContaining("is owned by nobody");
    }

    @Test
    void aPauseFileIsCreatedNewNeverThroughALink() throws IOException {
        Path logDir = Files.createDirectory(dir.resolve("logs"));
        Path target = dir.resolve("target");
        Path pause = Files.createSymbolicLink(logDir.resolve("pause-r1"), target);
        assertThatThrownBy(() -> LocalFiles.createNew(pause, "paused\n")).isInstanceOf(FileAlreadyExistsException.class);
        assertThat(target).doesNotExist();
        Path fresh = logDir.resolve("pause-r2");
        LocalFiles.createNew(fresh, "paused\n");
        assertThat(fresh).hasContent("paused");
    }
}
