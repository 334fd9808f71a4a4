package io.shardschema.server;

/** A request the API answers with a 4xx (or 5xx) status and a JSON error body: {"error": message, "status": n}. */
final class ApiError extends RuntimeException {
    final int status;

    ApiError(int status, String message) {
        super(message);
        this.status = status;
    }

    static ApiError badRequest(String message) {
        return new ApiError(400, message);
    }
}
