package io.shardschema.change;

import io.shardschema.ShardSchemaException;
import io.shardschema.schema.Sql;

import java.util.List;
import java.util.Locale;
import java.util.Set;
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
    private static final Set<String> STATEMENTS = Set.of("ALTER", "CREATE", "DROP", "RENAME");
    /** What DDL needs outside strings, names and comments; not '.', ';', '@', '?', ':', '\\', '{', '[' and the like. */
    private static final String SYMBOLS = "(),=<>!+-*/%&|^~";
    /** Storage engines whose tables reach other tables, schemas or servers named in their options or comment. */
    private static final Set<String> REACHING_ENGINES = Set.of("CONNECT", "FEDERATED", "FEDERATEDX", "OQGRAPH",
            "SPHINX", "SPIDER");
    /**
     * Words (unquoted) that reach past the schema another way: files where the server writes or reads them
     * (DATA/INDEX DIRECTORY, no FILE privilege needed; INTO OUTFILE, LOAD_FILE), and the named locks that fence a
     * run on its own session (a CREATE ... SELECT RELEASE_ALL_LOCKS() would let the fence go mid-run).
     */
    private static final Set<String> REACHING_WORDS = Set.of("DIRECTORY", "OUTFILE", "DUMPFILE", "LOAD_FILE",
            "GET_LOCK", "RELEASE_LOCK", "RELEASE_ALL_LOCKS");

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
        checkStaysInSchema(sql(table, c));
        return c;
    }

    /**
     * Refuses a statement that could touch anything but tables of the session's default schema: the shard's
     * schema when a version runs, the scratch schema in a preflight. The statement is read as the server reads it
     * ({@link StatementLexer}), under every sql_mode that changes how quotes read, with the content of executable
     * comments as code, and must be one ALTER, CREATE, DROP or RENAME TABLE that names no schema (no '.' outside a
     * number), has no second statement, and names no engine that reaches elsewhere.
     */
    public static void checkStaysInSchema(String statement) {
        for (StatementLexer.Dialect dialect : StatementLexer.Dialect.ALL) {
            List<StatementLexer.Token> tokens;
            try {
                tokens = StatementLexer.tokens(statement, dialect);
            } catch (StatementLexer.Malformed e) {
                throw outsideSchema(statement, e.offset, "has " + e.getMessage(), dialect);
            }
            if (tokens.size() < 2 || !isWord(tokens.get(0), STATEMENTS) || !isWord(tokens.get(1), Set.of("TABLE"))) {
                throw outsideSchema(statement, 0, "is not one ALTER, CREATE, DROP or RENAME TABLE statement", dialect);
            }
            for (StatementLexer.Token t : tokens) {
                String symbol = t.kind() == StatementLexer.Kind.SYMBOL ? t.value() : "";
                String name = t.value().strip().toUpperCase(Locale.ROOT);
                if (symbol.equals(";")) {
                    throw outsideSchema(statement, t.offset(), "has more than one statement (';'): give one"
                            + " statement per version", dialect);
                } else if (symbol.equals(".")) {
                    throw outsideSchema(statement, t.offset(), "names a schema (schema.table): a change may only"
                            + " touch the shard's own tables; name them without a schema", dialect);
                } else if (!symbol.isEmpty() && SYMBOLS.indexOf(symbol.charAt(0)) < 0) {
                    String shown = Character.isISOControl(symbol.charAt(0))
                            ? String.format("U+%04X", (int) symbol.charAt(0)) : symbol;
                    throw outsideSchema(statement, t.offset(), "has '" + shown + "', which a change may not use"
                            + " outside strings, names and comments" + (symbol.equals("\\")
                            ? " (in a string, write a quote as two quotes, not as \\', which some sql_modes read"
                            + " as the string's end)" : ""), dialect);
                } else if (t.kind() == StatementLexer.Kind.WORD && REACHING_WORDS.contains(name)) {
                    throw outsideSchema(statement, t.offset(), "has " + name + ", which reaches files on the server"
                            + " or the locks that fence a run: a change may not use it", dialect);
                } else if (t.kind() != StatementLexer.Kind.NUMBER && REACHING_ENGINES.contains(name)) {
                    // Wherever it stands, not only after ENGINE: that option has many spellings (ENGINE=X, ENGINE X,
                    // 'X', `X`, in a partition), and none of these names is a keyword or a type.
                    throw outsideSchema(statement, t.offset(), "names the storage engine " + name + ", whose tables"
                            + " reach other schemas or servers: such a table cannot be made by a version", dialect);
                }
            }
        }
    }

    private static boolean isWord(StatementLexer.Token t, Set<String> words) {
        return t.kind() == StatementLexer.Kind.WORD && words.contains(t.value().toUpperCase(Locale.ROOT));
    }

    private static ShardSchemaException outsideSchema(String statement, int offset, String problem,
                                                      StatementLexer.Dialect dialect) {
        String near = statement.substring(offset, Math.min(statement.length(), offset + 40));
        return ShardSchemaException.usage("refused: the statement " + problem + dialect.describe() + ", near '"
                + near + "'\n  statement: " + statement + "\nnothing was run and nothing was written");
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
