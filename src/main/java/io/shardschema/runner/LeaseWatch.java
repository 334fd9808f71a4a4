package io.shardschema.runner;

import java.util.function.LongSupplier;

/**
 * What a runner knows of one of its leases: held until a heartbeat finds it gone, or until no heartbeat has
 * confirmed it for longer than the catalog lets a task go without one before another runner may take it over
 * (fail closed: a runner cut off from the catalog stops its work before anyone else can start it). Time comes
 * from an injected monotonic ticker (nanoseconds).
 */
final class LeaseWatch {
    private final LongSupplier ticker;
    private final long expiryNanos;
    private volatile boolean held = true;
    private volatile long confirmedAt;

    /** A lease claimed now, counted as lost once unconfirmed for {@code expiryNanos}. */
    LeaseWatch(LongSupplier ticker, long expiryNanos) {
        this.ticker = ticker;
        this.expiryNanos = expiryNanos;
        this.confirmedAt = ticker.getAsLong();
    }

    boolean held() {
        return held;
    }

    /** A heartbeat sent at {@code sentAt} (a ticker reading) found the lease still this runner's. */
    void confirmed(long sentAt) {
        confirmedAt = Math.max(confirmedAt, sentAt);
    }

    /** The lease is gone; true the first time. */
    boolean lose() {
        boolean was = held;
        held = false;
        return was;
    }

    /** A heartbeat could not reach the catalog: the lease is lost once unconfirmed for too long; true the first time. */
    boolean unconfirmed() {
        return ticker.getAsLong() - confirmedAt > expiryNanos && lose();
    }
}
