package io.shardschema.catalog;

import java.util.Map;
import java.util.SortedMap;

/**
 * A {@code versions} row: {@code command} on {@code tableName}, applied with {@code type}. {@code online} holds what
 * only online changes ({@code pt-osc}, {@code online}) use; {@code expected} what the preflight at {@code version add} found the
 * change should produce; {@code rollback} the statement that undoes it (given, or derived from the preflight).
 */
public record Version(int number, String tableName, String command, String type,
                      String validationQuery, String validationExpected, Online online, Expected expected,
                      String rollback, boolean force) {
    public static final String SQL = "sql";
    public static final String PT_OSC = "pt-osc";
    /** The built-in binlog engine ({@code io.shardschema.online}). */
    public static final String ONLINE = "online";

    /** A version of type sql, or any version without online settings, preflight or rollback. */
    public Version(int number, String tableName, String command, String type, String validationQuery,
                   String validationExpected) {
        this(number, tableName, command, type, validationQuery, validationExpected, Online.NONE, Expected.NONE, null,
                false);
    }

    /**
     * The online part of a version: validated pt-osc options, whether the approval and cut-over gates open by
     * themselves, and an optional statement run on the shard right after the cut-over.
     */
    public record Online(Map<String, String> options, boolean autoApprove, boolean autoCutover, String finalInsert) {
        public static final Online NONE = new Online(Map.of(), false, false, null);
    }

    /**
     * What the change should produce, from its preflight: the whole schema after it (table name to normalised
     * definition), the fingerprint of {@code tableName}'s definition after it, the table's definition before it,
     * and how the server runs it (a {@code Preflight.Algorithm} name). All null for a version added without one.
     */
    public record Expected(SortedMap<String, String> schemaAfter, String tableFingerprint, String tableBefore,
                           String algorithm) {
        public static final Expected NONE = new Expected(null, null, null, null);

        public boolean known() {
            return tableFingerprint != null;
        }
    }

    /** This version under another number (a draft once registered). */
    public Version numbered(int newNumber) {
        return new Version(newNumber, tableName, command, type, validationQuery, validationExpected, online, expected,
                rollback, force);
    }

    public boolean hasValidation() {
        return validationQuery != null && !validationQuery.isBlank();
    }

    /** Whether the version goes through the online lifecycle (gates, shadow table, swap): pt-osc or the engine. */
    public boolean isOnline() {
        return type.equals(PT_OSC) || type.equals(ONLINE);
    }

    /**
     * The rollback as a change of its own: run directly, and expected to bring the table back to its definition
     * before this version (when the preflight recorded it).
     */
    public Version rollbackChange() {
        Expected back = expected.known() ? new Expected(new java.util.TreeMap<>(Map.of(tableName, expected.tableBefore())),
                io.shardschema.schema.SchemaSnapshot.fingerprint(expected.tableBefore()), null, null) : Expected.NONE;
        return new Version(number, tableName, rollback, SQL, null, null, Online.NONE, back, null, true);
    }

    public boolean hasRollback() {
        return rollback != null && !rollback.isBlank();
    }
}
