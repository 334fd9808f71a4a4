package io.shardschema.runner;

import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/** Adds up the time a runner spends waiting on the catalog: the per-task catalog overhead the benchmark reports. */
final class CatalogTimer {
    private final LongAdder nanos = new LongAdder();

    <T> T time(Supplier<T> call) {
        long start = System.nanoTime();
        try {
            return call.get();
        } finally {
            nanos.add(System.nanoTime() - start);
        }
    }

    long millis() {
        return nanos.sum() / 1_000_000;
    }
}
