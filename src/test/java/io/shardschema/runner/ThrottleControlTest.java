package io.shardschema.runner;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;

import static org.assertj.core.api.Assertions.assertThat;

class ThrottleControlTest {
    @TempDir
    Path dir;

    /** A clock the test moves by hand, so the re-read interval is tested without sleeping. */
    static final class ManualClock extends Clock {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    @Test
    void rereadsTheFileOncePerInterval() throws IOException {
        Path file = dir.resolve("throttle");
        ManualClock clock = new ManualClock();
        ThrottleControl control = new ThrottleControl(file, dir.resolve("stop"), clock);
        assertThat(control.state().limit(8)).isEqualTo(8);

        ThrottleControl.write(file, "pause");
        assertThat(control.state().paused()).as("not re-read before the interval").isFalse();
        clock.advance(ThrottleControl.REFRESH);
        assertThat(control.state().paused()).isTrue();
        assertThat(control.state().limit(8)).isZero();

        ThrottleControl.write(file, "workers 2");
        clock.advance(Duration.ofSeconds(1));
        assertThat(control.state().limit(8)).isEqualTo(2);
        assertThat(control.state().limit(1)).isEqualTo(1);

        Files.createFile(dir.resolve("stop"));
        clock.advance(Duration.ofSeconds(1));
        assertThat(control.stopRequested()).isTrue();

        ThrottleControl.remove(file);
        clock.advance(Duration.ofSeconds(1));
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
}
