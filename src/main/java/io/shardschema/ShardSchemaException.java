package io.shardschema;

/**
 * An error meant for the user: its message says what is wrong and what to do, and it carries the exit code
 * of DESIGN.md (1 error, 2 usage or bad input, 4 refused by a safety check). Never carries a password.
 */
public class ShardSchemaException extends RuntimeException {
    public static final int ERROR = 1;
    public static final int USAGE = 2;
    public static final int SOME_FAILED = 3;
    public static final int REFUSED = 4;

    private final int exitCode;
    /** The input named something that does not exist (a shard id, a version): HTTP answers 404. */
    private final boolean notFound;

    public ShardSchemaException(int exitCode, String message) {
        this(exitCode, message, null);
    }

    public ShardSchemaException(int exitCode, String message, Throwable cause) {
        this(exitCode, message, cause, false);
    }

    private ShardSchemaException(int exitCode, String message, Throwable cause, boolean notFound) {
        super(message, cause);
        this.exitCode = exitCode;
        this.notFound = notFound;
    }

    /** A usage error for an id or number that names nothing registered. */
    public static ShardSchemaException notFound(String message) {
        return new ShardSchemaException(USAGE, message, null, true);
    }

    public static ShardSchemaException usage(String message) {
        return new ShardSchemaException(USAGE, message);
    }

    public static ShardSchemaException error(String message) {
        return new ShardSchemaException(ERROR, message);
    }

    public static ShardSchemaException error(String message, Throwable cause) {
        return new ShardSchemaException(ERROR, message, cause);
    }

    public int exitCode() {
        return exitCode;
    }

    public boolean notFound() {
        return notFound;
    }
}
