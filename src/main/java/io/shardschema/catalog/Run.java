package io.shardschema.catalog;

import java.time.Instant;

/** A {@code log} row: one attempt at applying a version to a shard. */
public record Run(long shardId, int version, int run, String state, String runner, String message, String executed,
                  String output, String err, Instant startedAt, Instant finishedAt) {

    public static final String RUNNING = "running";
    public static final String APPLIED = "applied";
    /** The change was found already in place (an earlier run landed it before its runner died). */
    public static final String ALREADY_APPLIED = "already-applied";
    public static final String FAILED = "failed";
    /** Its runner stopped heartbeating; another runner took the task over. */
    public static final String STALLED = "stalled";
    /** The connection broke while the change was executing: it may or may not have landed. */
    public static final String UNKNOWN = "unknown";
    /**
     * The change ran but its check did not pass: the version's validation query gave another answer, or the check
     * could not be made (the connection broke after the change); the next run checks again, never re-applies.
     */
    public static final String INVALID = "invalid";
    /** An online change reached a gate (approval, cut-over) and waits for a DBA. */
    public static final String WAITING = "waiting";
    /** An online change was cancelled by a DBA; its shadow table and triggers were removed. */
    public static final String CANCELLED = "cancelled";
    /** The change ran, but the table differs from the result its preflight expected (the shard had drifted). */
    public static final String DRIFTED = "drifted";
    /** The guard refused the change: it would block writes on a table above the row thresholds. */
    public static final String REFUSED = "refused";
    /** Not a change: `baseline` found the shard's schema to be the expected one and set its version. */
    public static final String BASELINED = "baselined";
}
