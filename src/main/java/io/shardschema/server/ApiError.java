package io.shardschema.server;

import java.util.Map;

/**
 * A request the API answers with a 4xx (or 5xx) status and a JSON error body: {"error": message, "status": n},
 * plus the headers that status calls for.
 */
final class ApiError extends RuntimeException {
    final int status;
    final Map<String, String> headers;

    ApiError(int status, String message) {
        this(status, message, Map.of());
    }

    private ApiError(int status, String message, Map<String, String> headers) {
        super(message);
        this.status = status;
        this.headers = headers;
    }

    static ApiError badRequest(String message) {
        return new ApiError(400, message);
    }

    /** 401, with the challenge that names the scheme to use. */
    static ApiError unauthorized(String message) {
        return new ApiError(401, message, Map.of("WWW-Authenticate", "Bearer"));
    }

    /** 503: too much at once; the client may try again after {@code retryAfterSeconds}. */
    static ApiError busy(String message, int retryAfterSeconds) {
        return new ApiError(503, message, Map.of("Retry-After", String.valueOf(retryAfterSeconds)));
    }
}
