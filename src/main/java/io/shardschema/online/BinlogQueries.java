package io.shardschema.online;

import io.shardschema.change.StatementLexer;
import io.shardschema.change.StatementLexer.Kind;
import io.shardschema.change.StatementLexer.Token;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Reads the statements the binlog carries as text (QUERY events) for what would break the change: DDL on the
 * table (its definition changes under the copy), DML on it logged as a statement (a session in STATEMENT or MIXED
 * format: no row event would carry its keys), and XA (a prepared transaction's rows are not visible when the
 * barrier says so). Transaction control and statements on other tables pass.
 */
final class BinlogQueries {
    private static final Set<String> CONTROL = Set.of("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE");
    private static final Set<String> DDL = Set.of("ALTER", "RENAME", "DROP", "TRUNCATE", "CREATE", "OPTIMIZE",
            "REPAIR", "ANALYZE");
    private static final StatementLexer.Dialect DEFAULT = StatementLexer.Dialect.ALL.get(0);

    private BinlogQueries() {
    }

    /** Why {@code sql} (run with default database {@code database}) stops a change of schema.table, if it does. */
    static Optional<String> problem(String sql, String database, String schema, String table) {
        List<Token> tokens;
        try {
            tokens = StatementLexer.tokens(sql, DEFAULT);
        } catch (StatementLexer.Malformed e) {
            // Not readable here: fail closed only when it may name the table.
            return sql.toLowerCase(Locale.ROOT).contains(table.toLowerCase(Locale.ROOT))
                    ? Optional.of("a statement naming " + table + " that cannot be read: " + sql) : Optional.empty();
        }
        if (tokens.isEmpty() || tokens.get(0).kind() != Kind.WORD) {
            return Optional.empty();
        }
        String first = tokens.get(0).value().toUpperCase(Locale.ROOT);
        if (CONTROL.contains(first)) {
            return Optional.empty();
        }
        if (first.equals("XA")) {
            return Optional.of("an XA transaction, which the engine does not follow yet: " + sql);
        }
        boolean names = false;
        for (int i = 0; i < tokens.size(); i++) {
            if (isName(tokens.get(i)) && tokens.get(i).value().equalsIgnoreCase(table)) {
                boolean qualified = i >= 2 && tokens.get(i - 1).value().equals(".") && isName(tokens.get(i - 2));
                names |= schema.equalsIgnoreCase(qualified ? tokens.get(i - 2).value() : database);
            }
        }
        if (!names) {
            return Optional.empty();
        }
        return Optional.of((DDL.contains(first) ? "DDL on " : "a statement logged as text on ") + table
                + " while it is changed online: " + sql);
    }

    private static boolean isName(Token t) {
        return t.kind() == Kind.WORD || t.kind() == Kind.QUOTED_NAME;
    }
}
