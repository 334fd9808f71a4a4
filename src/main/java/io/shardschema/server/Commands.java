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
     * failed, why ({@code error}) and whether it named an id that does not exist.
     */
    record Outcome(int exitCode, String stdout, String error, boolean notFound) {
    }

    Outcome run(List<String> args);
}
