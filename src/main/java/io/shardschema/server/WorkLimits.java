package io.shardschema.server;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * How many requests the server works on at once (the commands behind the API and /metrics, each on catalog and
 * shard connections). Beyond a bound a request is answered 503 with Retry-After instead of queueing without end.
 * Heavy requests (they read every shard or every row, or build scratch schemas) have a small bound of their own,
 * counted apart so that they never crowd out status, the page's reads or metrics; they are refused at once when it
 * is reached, as they take seconds to minutes. A light request waits a little for its turn: a burst is normal.
 */
final class WorkLimits {
    static final int REQUESTS = 16;
    static final int HEAVY_REQUESTS = 2;
    static final int WAIT_SECONDS = 2;
    private final Semaphore requests = new Semaphore(REQUESTS);
    private final Semaphore heavyRequests = new Semaphore(HEAVY_REQUESTS);

    <T> T run(boolean heavy, Supplier<T> work) {
        Semaphore permits = heavy ? heavyRequests : requests;
        if (heavy && !permits.tryAcquire()) {
            throw ApiError.busy(HEAVY_REQUESTS + " heavy requests (checksum, replicas, drift, trash, preflight, version"
                    + " add) are already running, the most at once; try again later", 10);
        }
        if (!heavy && !waitForTurn()) {
            throw ApiError.busy(REQUESTS + " requests are already being answered, the most at once; try again in a"
                    + " moment", 1);
        }
        try {
            return work.get();
        } finally {
            permits.release();
        }
    }

    private boolean waitForTurn() {
        try {
            return requests.tryAcquire(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            // The server is stopping.
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
