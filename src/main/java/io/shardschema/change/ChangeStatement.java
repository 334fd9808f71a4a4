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
    /** CREATE TABLE or DROP TABLE of one table, as an online version takes them: group 1 is the table's name. */
    private static final Pattern ONE_TABLE = Pattern.compile(
            "(?is)(?:CREATE\\s+TABLE(?:\\s+IF\\s+NOT\\s+EXISTS)?|DROP\\s+TABLE(?:\\s+IF\\s+EXISTS)?)\\s+`?([A-Za-z0-9_$]+)`?(?:\\s*\\(.*|\\s+.*)?");
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

    /**
     * Refuses, for an online version, a whole statement other than a CREATE TABLE or DROP TABLE of {@code table}
     * itself: the online path moves or checks that table, so a statement naming another would touch the wrong one.
     */
    public static void checkOnlineWholeStatement(String table, String command) {
        if (!isWholeStatement(command)) {
            return;
        }
        java.util.regex.Matcher m = ONE_TABLE.matcher(command.strip());
        if (!m.matches() || !m.group(1).equals(table) || command.contains(",") && isDropTable(command)) {
            throw ShardSchemaException.usage("an online version's whole statement must be CREATE TABLE " + table
                    + " ... or DROP TABLE " + table + " (one table, the one --table names)");
        }
    }

    public static boolean isWholeStatement(String command) {
        return WHOLE_STATEMENT.matcher(command.strip()).matches();
    }

    /** The SQL run on a shard (whose schema is the connection's default database). */
    public static String sql(String table, String command) {
        return isWholeStatement(command) ? command : "ALTER TABLE " + Sql.quote(table) + " " + command;
    }
}
