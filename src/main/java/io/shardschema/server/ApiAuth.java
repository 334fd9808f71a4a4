package io.shardschema.server;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The API's token check. Changes always need {@code Authorization: Bearer <apiToken>}, and so do heavy reads (they
 * load every shard or read every row: anyone who reaches the port could keep the fleet's servers busy); other
 * reads need it too unless reads are open. Without a configured token no change or heavy read is accepted at all.
 * Tokens are compared through their SHA-256 digests with {@link MessageDigest#isEqual}, in time independent of
 * where they differ and of their length.
 */
final class ApiAuth {
    private final byte[] tokenDigest;
    private final boolean openReads;

    ApiAuth(String apiToken, boolean openReads) {
        this.tokenDigest = apiToken == null || apiToken.isBlank() ? null : digest(apiToken.strip());
        this.openReads = openReads;
    }

    /** Throws the 401 or 403 the request earns, if any. */
    void check(boolean changes, boolean heavy, String authorization) {
        if (!changes && !heavy && openReads) {
            return;
        }
        if (tokenDigest == null) {
            throw new ApiError(403, (changes ? "changes" : heavy ? "heavy reads" : "reads") + " over HTTP are"
                    + " disabled: no apiToken is configured; set apiToken in the config file");
        }
        // The scheme's name is case-insensitive (RFC 9110); the token is not.
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw ApiError.unauthorized("missing token: send the header Authorization: Bearer <apiToken>");
        }
        if (!MessageDigest.isEqual(tokenDigest, digest(authorization.substring(7).strip()))) {
            throw ApiError.unauthorized("wrong token");
        }
    }

    private static byte[] digest(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
