package io.shardschema.runner;

import io.shardschema.ShardSchemaException;
import io.shardschema.testing.OtherUser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.function.LongSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ThrottleControlTest {
    @TempDir
    Path dir;

    /** A monotonic ticker the test moves by hand (nanoseconds), so the re-read interval is tested without sleeping. */
    static final class ManualTicker implements LongSupplier {
        long nanos = Long.MAX_VALUE - Duration.ofSeconds(2).toNanos();

        void advance(Duration d) {
            nanos += d.toNanos();
        }

        @Override
        public long getAsLong() {
            return nanos;
        }
    }

    @Test
    void rereadsTheFileOncePerInterval() throws IOException {
        Path file = dir.resolve("throttle");
        ManualTicker ticker = new ManualTicker();
        ThrottleControl control = new ThrottleControl(file, dir.resolve("stop"), ticker);
        assertThat(control.state().limit(8)).isEqualTo(8);

        ThrottleControl.write(file, "pause");
        assertThat(control.state().paused()).as("not re-read before the interval").isFalse();
        // Across nanoTime's wrap-around, which the ticker started just before.
        ticker.advance(ThrottleControl.REFRESH);
        assertThat(control.state().paused()).isTrue();
        assertThat(control.state().limit(8)).isZero();

        ThrottleControl.write(file, "workers 2");
        ticker.advance(Duration.ofSeconds(1));
        assertThat(control.state().limit(8)).isEqualTo(2);
        assertThat(control.state().limit(1)).isEqualTo(1);

        Files.createFile(dir.resolve("stop"));
        ticker.advance(Duration.ofSeconds(1));
        assertThat(control.stopRequested()).isTrue();

        ThrottleControl.remove(file);
        ticker.advance(Duration.ofSeconds(1));
        assertThat(control.state().limit(8)).isEqualTo(8);
    }

    @Test
    void garbledFileFailsClosed() throws IOException {
        Path file = dir.resolve("throttle");
        Files.writeString(file, "workers lots");
        assertThat(ThrottleControl.read(file).paused()).isTrue();
        assertThat(ThrottleControl.read(file).description()).contains("expected 'pause' or 'workers N'");
        Files.writeString(file, "");
        assertThat(ThrottleControl.read(file).paused()).as("an empty file is read mid-write").isTrue();
        Files.writeString(file, "workers=3");
        assertThat(ThrottleControl.read(file).workerLimit()).isEqualTo(3);
    }

    @Test
    void aThrottlingFileOthersCouldHaveWrittenPausesWhateverItSays() throws IOException {
        Path victim = Files.writeString(dir.resolve("elsewhere"), "workers 3");
        Path link = Files.createSymbolicLink(dir.resolve("throttle"), victim);
        assertThat(ThrottleControl.read(link).paused()).as("a link is not followed").isTrue();
        assertThat(ThrottleControl.read(link).description()).contains("is a symbolic link");

        Path open = Files.writeString(dir.resolve("open"), "resume");
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-rw-rw-"));
        assertThat(ThrottleControl.read(open).description()).startsWith("paused").contains("writable by other users");

        Path shared = Files.createDirectory(dir.resolve("shared"));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path inShared = Files.writeString(shared.resolve("throttle"), "workers 2");
        assertThat(ThrottleControl.read(inShared).description()).startsWith("paused")
                .contains("its directory " + shared + " is writable by other users");
        // Sticky, as /tmp: others cannot replace this user's file there.
        Files.setAttribute(shared, "unix:mode", 01777);
        assertThat(ThrottleControl.read(inShared).workerLimit()).isEqualTo(2);
    }

    @Test
    void anotherUsersThrottleOrStopFileInASharedStickyDirectoryIsIgnored() throws IOException {
        Path shared = Files.createDirectory(dir.resolve("tmp-like"));
        Files.setAttribute(shared, "unix:mode", 01777);
        // Anyone may create files under free names there, as in /tmp: such a file is not the DBA's wish.
        Path throttle = OtherUser.give(Files.writeString(shared.resolve("throttle"), "pause"));
        Path stop = OtherUser.give(Files.writeString(shared.resolve("stop"), ""));
        assertThat(ThrottleControl.read(throttle).paused()).isFalse();
        assertThat(ThrottleControl.read(throttle).description()).contains("another user's file");
        assertThat(ThrottleControl.stopFilePresent(stop)).isFalse();
        // The same files of this user count.
        Path mine = Files.writeString(shared.resolve("mine"), "pause");
        assertThat(ThrottleControl.read(mine).paused()).isTrue();
        assertThat(ThrottleControl.stopFilePresent(mine)).isTrue();
    }

    @Test
    void aThrottlingFileOfAnotherUserPauses() throws IOException {
        Path file = OtherUser.give(Files.writeString(dir.resolve("throttle"), "resume"));
        assertThat(ThrottleControl.read(file).paused()).isTrue();
        assertThat(ThrottleControl.read(file).description()).contains("is owned by nobody");
    }

    @Test
    void writingRefusesADirectoryOthersCanWriteAndReplacesALinkInsteadOfFollowingIt() throws IOException {
        Path shared = Files.createDirectory(dir.resolve("shared"));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertThatThrownBy(() -> ThrottleControl.write(shared.resolve("throttle"), "pause"))
                .isInstanceOfSatisfying(ShardSchemaException.class, e -> assertThat(e.getMessage())
                        .contains("cannot write throttling file").contains("writable by other users"));
        assertThat(shared.resolve("throttle")).doesNotExist();

        Path victim = Files.writeString(dir.resolve("victim"), "untouched");
        Path link = Files.createSymbolicLink(dir.resolve("throttle"), victim);
        ThrottleControl.write(link, "pause");
        assertThat(victim).hasContent("untouched");
        assertThat(Files.isSymbolicLink(link)).isFalse();
        assertThat(ThrottleControl.read(link).paused()).isTrue();
        assertThat(ThrottleControl.read(link).description()).isEqualTo("paused by " + link);
    }

    @Test
    void aStopFileStopsEvenAsADanglingLink() throws IOException {
        Path stop = Files.createSymbolicLink(dir.resolve("stop"), dir.resolve("nowhere"));
        ThrottleControl control = new ThrottleControl(dir.resolve("throttle"), stop, new ManualTicker());
        assertThat(control.stopRequested()).isTrue();
    }
}
