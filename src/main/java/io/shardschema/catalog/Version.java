package io.shardschema.catalog;

import java.util.Map;

/**
 * A {@code versions} row: {@code command} on {@code tableName}, applied with {@code type}. {@code online} holds what
 * only online changes ({@code pt-osc}) use.
 */
public record Version(int number, String tableName, String command, String type,
                      String validationQuery, String validationExpected, Online online) {
    public static final String SQL = "sql";
    public static final String PT_OSC = "pt-osc";

    /** A version of type sql, or any version without online settings. */
    public Version(int number, String tableName, String command, String type, String validationQuery,
                   String validationExpected) {
        this(number, tableName, command, type, validationQuery, validationExpected, Online.NONE);
    }

    /**
     * The online part of a version: validated pt-osc options, whether the approval and cut-over gates open by
     * themselves, and an optional statement run on the shard right after the cut-over.
     */
    public record Online(Map<String, String> options, boolean autoApprove, boolean autoCutover, String finalInsert) {
        public static final Online NONE = new Online(Map.of(), false, false, null);
    }

    public boolean hasValidation() {
        return validationQuery != null && !validationQuery.isBlank();
    }

    public boolean isOnline() {
        return type.equals(PT_OSC);
    }
}
