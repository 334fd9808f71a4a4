package io.shardschema.server;

import java.util.List;

/**
 * Runs a shardschema command, as the command line would, and returns what it gave. The API and the metrics do
 * everything through this, so they do exactly what the command line does.
 */
@FunctionalInterface
public interface Commands {
    /**
     * What a command gave: its exit code, what it printed on stdout (one JSON document with --json), and when it
     * failed, why ({@code error}), whether it named an id that does not exist, and whether it was a bug of ours.
     */
    record Outcome(int exitCode, String stdout, String error, boolean notFound, boolean internal) {
    }

    Outcome run(List<String> args);
}
