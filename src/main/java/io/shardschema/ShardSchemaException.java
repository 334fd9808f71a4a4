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

    public ShardSchemaException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public ShardSchemaException(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
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
}
