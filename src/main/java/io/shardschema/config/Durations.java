package io.shardschema.config;

import java.math.BigInteger;
import java.time.Duration;
import java.util.Optional;

/** Durations written as a count of units ({@code 7d}, {@code 5s}), read without overflow however long the count. */
public final class Durations {
    private Durations() {
    }

    /** {@code digits} times {@code unit}, or empty when that is more than {@code max}. */
    public static Optional<Duration> times(String digits, Duration unit, Duration max) {
        BigInteger count = new BigInteger(digits);
        if (count.compareTo(BigInteger.valueOf(max.dividedBy(unit))) > 0) {
            return Optional.empty();
        }
        return Optional.of(unit.multipliedBy(count.longValue()));
    }
}
