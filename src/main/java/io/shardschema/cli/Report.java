package io.shardschema.cli;

/** A command's typed result: rendered as text for people, or serialised as one JSON document with --json. */
public interface Report {
    String text();
}
