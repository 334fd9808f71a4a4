package io.shardschema.catalog;

/**
 * How a run ended on the shard, as it is written to its log row: a {@link Run} state, a message, the output and
 * error, and {@code fingerprint}, the changed table's fingerprint after a change that landed (else null).
 */
public record RunEnding(String state, String message, String output, String err, String fingerprint) {
    public RunEnding(String state, String message, String output, String err) {
        this(state, message, output, err, null);
    }
}
