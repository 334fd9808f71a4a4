package io.shardschema.change;

import io.shardschema.ShardSchemaException;
import io.shardschema.schema.Sql;

import java.util.regex.Pattern;

/**
 * Turns a version's command into the statement run on a shard. As with pt-online-schema-change's --alter, the
 * command is the body of {@code ALTER TABLE t ...}; a whole CREATE TABLE, DROP TABLE or RENAME TABLE is run as
 * written. Also the single place that decides which table names and commands are acceptable.
 */
public final class ChangeStatement {
    private static final Pattern TABLE_NAME = Pattern.compile("[A-Za-z0-9_$]{1,64}");
    private static final Pattern WHOLE_STATEMENT = Pattern.compile("(?is)(CREATE\\s+TABLE|DROP\\s+TABLE|RENAME\\s+TABLE)\\b.*");
    private static final Pattern DROP_TABLE = Pattern.compile("(?is)DROP\\s+TABLE\\b.*");
    private static final Pattern LEADING_ALTER = Pattern.compile("(?is)ALTER\\s+TABLE\\b.*");

    private ChangeStatement() {
    }

    /** Refuses a table name the tool will not put in SQL (even quoted): only letters, digits, _ and $. */
    public static void checkTableName(String table) {
        if (table == null || !TABLE_NAME.matcher(table).matches()) {
            throw ShardSchemaException.usage("invalid table name '" + table + "': use 1 to 64 letters, digits, _ or $");
        }
    }

    /** The command as it will be stored: trimmed, without a trailing semicolon; refuses empty and doubled ALTERs. */
    public static String normaliseCommand(String table, String command) {
        String c = command == null ? "" : command.strip();
        while (c.endsWith(";")) {
            c = c.substring(0, c.length() - 1).strip();
        }
        if (c.isEmpty()) {
            throw ShardSchemaException.usage("empty command: give the body of ALTER TABLE " + table
                    + " (for example ADD COLUMN c INT), or a whole CREATE/DROP/RENAME TABLE statement");
        }
        if (LEADING_ALTER.matcher(c).matches()) {
            throw ShardSchemaException.usage("the command is the body of ALTER TABLE " + table
                    + ": drop the leading 'ALTER TABLE ...' and give only what follows (for example ADD COLUMN c INT)");
        }
        return c;
    }

    /** A DROP TABLE, which an online change turns into a move to the pending-drops database. */
    public static boolean isDropTable(String command) {
        return DROP_TABLE.matcher(command.strip()).matches();
    }

    public static boolean isWholeStatement(String command) {
        return WHOLE_STATEMENT.matcher(command.strip()).matches();
    }

    /** The SQL run on a shard (whose schema is the connection's default database). */
    public static String sql(String table, String command) {
        return isWholeStatement(command) ? command : "ALTER TABLE " + Sql.quote(table) + " " + command;
    }
}
