package io.shardschema.runner;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Named points of a run where a fault test freezes the runner, as a GC pause, a VM freeze or a lost packet would:
 * started with {@code -Dshardschema.freezeAt=NAME}, the runner stops itself with SIGSTOP the first time it reaches
 * that point, and stays stopped until the test sends SIGCONT. Without the property a point costs one comparison.
 */
enum FreezePoint {
    /** A sql run holds the shard's fence and is about to record, under its lease, that it executes. */
    BEFORE_RECORD,
    /** A sql run recorded that it executes; its statement is not sent yet. */
    AFTER_RECORD,
    /** A sql run's statement returned; the run's end is not recorded yet. */
    AFTER_EXECUTE;

    private static final String CHOSEN = System.getProperty("shardschema.freezeAt");
    private static final AtomicBoolean FROZEN = new AtomicBoolean();

    void reach() {
        if (CHOSEN == null || !CHOSEN.equals(name()) || !FROZEN.compareAndSet(false, true)) {
            return;
        }
        try {
            new ProcessBuilder("kill", "-STOP", String.valueOf(ProcessHandle.current().pid())).inheritIO().start()
                    .waitFor();
        } catch (IOException e) {
            throw new IllegalStateException("cannot freeze at " + name() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
