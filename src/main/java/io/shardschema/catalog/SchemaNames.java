package io.shardschema.catalog;

import io.shardschema.Printable;
import io.shardschema.ShardSchemaException;

import java.util.Optional;

/**
 * Which schema names a shard may have. A name is kept in {@code shards.schemaName} only and reaches a server as a
 * quoted identifier or as the database a connection selects, never inside a DSN, so it cannot change where or how
 * a runner connects; what is refused is what could not be stored or shown safely.
 */
public final class SchemaNames {
    /** MySQL's and MariaDB's limit, and the width of {@code shards.schemaName}. */
    private static final int MAX_LENGTH = 64;

    private SchemaNames() {
    }

    /** Why {@code name} cannot be a shard's schema, or empty when it can. */
    public static Optional<String> problem(String name) {
        if (name == null || name.isEmpty()) {
            return Optional.of("the name is empty");
        }
        if (name.codePointCount(0, name.length()) > MAX_LENGTH) {
            return Optional.of("it is longer than " + MAX_LENGTH + " characters");
        }
        if (name.codePoints().anyMatch(Printable::needsEscape)) {
            // A terminal escape or a bidirectional override would disguise the name wherever it is shown.
            return Optional.of("it holds a control or formatting character");
        }
        if (name.codePoints().anyMatch(Character::isSupplementaryCodePoint)) {
            return Optional.of("it holds a character outside Unicode's Basic Multilingual Plane, which MySQL does not"
                    + " allow in names");
        }
        if (name.endsWith(" ")) {
            return Optional.of("it ends with a space, which MySQL does not allow in names");
        }
        return Optional.empty();
    }

    /** Refuses (usage error) a name that cannot be a shard's schema. */
    public static void check(String name) {
        problem(name).ifPresent(why -> {
            throw ShardSchemaException.usage("invalid schema name '" + Printable.escape(String.valueOf(name)) + "': "
                    + why + "; a schema name is 1 to " + MAX_LENGTH + " characters, without control characters");
        });
    }
}
