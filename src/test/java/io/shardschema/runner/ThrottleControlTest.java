package io.shardschema.runner;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.LongSupplier;

import static org.assertj.core.api.Assertions.assertThat;

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
}
