package io.shardschema.catalog;

/** A {@code versions} row: {@code command} on {@code tableName}, applied with {@code type}. */
public record Version(int number, String tableName, String command, String type,
                      String validationQuery, String validationExpected) {

    public boolean hasValidation() {
        return validationQuery != null && !validationQuery.isBlank();
    }
}
