package io.shardschema.runner;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** A lease that heartbeats cannot confirm counts as lost once unconfirmed for its expiry (a hand-moved ticker). */
class LeaseWatchTest {
    private final AtomicLong now = new AtomicLong(1_000);
    private final LeaseWatch watch = new LeaseWatch(now::get, 50);

    @Test
    void aLeaseUnconfirmedForItsExpiryIsLostOnce() {
        now.addAndGet(50);
        assertThat(watch.unconfirmed()).as("not yet past the expiry").isFalse();
        assertThat(watch.held()).isTrue();
        now.addAndGet(1);
        assertThat(watch.unconfirmed()).isTrue();
        assertThat(watch.held()).isFalse();
        assertThat(watch.unconfirmed()).as("lost once").isFalse();
    }

    @Test
    void aConfirmationCountsFromWhenItsHeartbeatWasSent() {
        now.addAndGet(40);
        long sent = now.get();
        now.addAndGet(30);
        watch.confirmed(sent);
        assertThat(watch.unconfirmed()).as("30 since the heartbeat was sent").isFalse();
        now.addAndGet(21);
        assertThat(watch.unconfirmed()).isTrue();
    }

    @Test
    void aLeaseFoundGoneIsLostAtOnce() {
        assertThat(watch.lose()).isTrue();
        assertThat(watch.held()).isFalse();
        assertThat(watch.lose()).isFalse();
        watch.confirmed(now.get());
        assertThat(watch.held()).as("a late confirmation does not bring it back").isFalse();
    }
}
