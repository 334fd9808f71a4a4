package io.shardschema.cli;

import picocli.CommandLine.Option;

/** The --json flag of every command that reports. */
public final class JsonOption {
    @Option(names = "--json", description = "Print one JSON document on stdout instead of text.")
    boolean json;
}
