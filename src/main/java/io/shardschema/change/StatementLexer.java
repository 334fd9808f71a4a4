package io.shardschema.change;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits one SQL statement into tokens the way the MariaDB (and MySQL) server's lexer does ({@code sql_lex.cc}):
 * spaces, {@code #}, {@code -- } and C comments, executable comments ({@code /*!}, {@code /*!NNNNN},
 * {@code /*M!}, {@code /*M!NNNNNN}, whose content is code), strings, quoted names, numbers such as {@code 1.5},
 * {@code .5} or {@code 1e-3}, and names that start with digits. How quotes read depends on the session's sql_mode
 * ({@link Dialect}). Where the server could read the text in more than one way, or where the text is malformed, it
 * refuses ({@link Malformed}) rather than guess: the check built on it must see every token the server could run.
 */
public final class StatementLexer {
    public enum Kind { WORD, QUOTED_NAME, STRING, NUMBER, SYMBOL }

    /** One token: {@code value} is a quoted name's or a string's content (quotes and escapes undone), else the text. */
    public record Token(Kind kind, String value, int offset) {
    }

    /**
     * The sql_mode flags that change where strings and names end. (MSSQL's [names] and ORACLE's ':' need none:
     * the check refuses '[' and ':' outright.)
     */
    public record Dialect(boolean ansiQuotes, boolean backslashEscapes) {
        /** Every combination: a shard's server may run any of them. */
        public static final List<Dialect> ALL = List.of(new Dialect(false, true), new Dialect(true, true),
                new Dialect(false, false), new Dialect(true, false));

        /** How a message names this dialect; empty for the server's default. */
        String describe() {
            List<String> modes = new ArrayList<>();
            if (ansiQuotes) {
                modes.add("ANSI_QUOTES");
            }
            if (!backslashEscapes) {
                modes.add("NO_BACKSLASH_ESCAPES");
            }
            return modes.isEmpty() ? "" : " (read with sql_mode " + String.join(",", modes) + ")";
        }
    }

    /** Text the lexer will not guess about; {@code offset} is where the trouble starts. */
    public static final class Malformed extends RuntimeException {
        final int offset;

        Malformed(int offset, String message) {
            super(message);
            this.offset = offset;
        }
    }

    private final String sql;
    private final Dialect dialect;
    private final List<Token> tokens = new ArrayList<>();

    private StatementLexer(String sql, Dialect dialect) {
        this.sql = sql;
        this.dialect = dialect;
    }

    public static List<Token> tokens(String sql, Dialect dialect) {
        int nul = sql.indexOf('\0');
        if (nul >= 0) {
            // The server ends a line comment, and then the statement, at a NUL: what follows would go unread.
            throw new Malformed(nul, "a NUL character");
        }
        StatementLexer lexer = new StatementLexer(sql, dialect);
        lexer.lex(0, sql.length());
        return lexer.tokens;
    }

    /** Lexes {@code [from, to)}: the whole statement, or the content of an executable comment. */
    private void lex(int from, int to) {
        int i = from;
        while (i < to) {
            char c = sql.charAt(i);
            if (isSpace(c)) {
                i++;
            } else if (c == '#' || c == '-' && at(i + 1) == '-' && endsDoubleDash(i + 2)) {
                i = lineCommentEnd(i, to);
            } else if (c == '/' && at(i + 1) == '*') {
                i = blockComment(i, to);
            } else if (c == '\'') {
                i = quoted(i, to, '\'', dialect.backslashEscapes(), Kind.STRING);
            } else if (c == '"') {
                i = dialect.ansiQuotes() ? quoted(i, to, '"', false, Kind.QUOTED_NAME)
                        : quoted(i, to, '"', dialect.backslashEscapes(), Kind.STRING);
            } else if (c == '`') {
                i = quoted(i, to, '`', false, Kind.QUOTED_NAME);
            } else if (isDigit(c)) {
                i = numberOrName(i, to);
            } else if (c == '.' && isDigit(at(i + 1)) && !endsName(i - 1)) {
                // ".5" is a number, but only where no name ends right before: after one, the server reads a
                // separator and then a name, even a numeric-looking one ("db.5t").
                i = fraction(i, i + 1, to);
            } else if (isNameChar(c)) {
                int end = i;
                while (end < to && isNameChar(sql.charAt(end))) {
                    end++;
                }
                add(Kind.WORD, sql.substring(i, end), i);
                i = end;
            } else {
                add(Kind.SYMBOL, String.valueOf(c), i);
                i++;
            }
        }
    }

    private void add(Kind kind, String value, int offset) {
        tokens.add(new Token(kind, value, offset));
    }

    private char at(int i) {
        return i < sql.length() ? sql.charAt(i) : 0;
    }

    /** "--" starts a comment only before a space or a control character (or the end). */
    private boolean endsDoubleDash(int i) {
        return i >= sql.length() || sql.charAt(i) <= ' ' || sql.charAt(i) == 0x7F;
    }

    private int lineCommentEnd(int i, int to) {
        int newline = sql.indexOf('\n', i);
        if (newline < 0 || newline >= to) {
            if (to < sql.length()) {
                // Only an executable comment's content ends before the statement does. There, the server's line
                // comment would run on past the comment's end, while a server that skips the comment stops there.
                throw new Malformed(i, "a line comment inside an executable comment, which hides where the comment ends");
            }
            return to;
        }
        return newline + 1;
    }

    private int blockComment(int i, int to) {
        boolean maria = at(i + 2) == 'M' && at(i + 3) == '!';
        if (at(i + 2) != '!' && !maria) {
            int end = sql.indexOf("*/", i + 2);
            if (end < 0 || end + 2 > to) {
                throw new Malformed(i, "an unterminated comment");
            }
            return end + 2;
        }
        int content = i + (maria ? 4 : 3);
        int digits = 0;
        while (isDigit(at(content + digits))) {
            digits++;
        }
        if (digits >= 5) {
            // A server version: MariaDB reads 5 or 6 digits, MySQL 5; a 6th digit must stand alone so that both
            // read the same code after it.
            if (digits > 6 || digits == 6 && !isSpace(at(content + 6)) && at(content + 6) != '*') {
                throw new Malformed(i, "an executable comment whose version is not 5 or 6 digits followed by a space");
            }
            content += digits;
        }
        int end = sql.indexOf("*/", content);
        if (end < 0 || end + 2 > to) {
            throw new Malformed(i, "an unterminated executable comment");
        }
        if (sql.substring(content, end).contains("/*")) {
            throw new Malformed(i, "a comment inside an executable comment");
        }
        // A server that runs the content ends the comment at the first "*/" outside its strings, one that skips it
        // at the first "*/": lexed alone, the content must use up exactly the text before that first "*/".
        try {
            lex(content, end);
        } catch (Malformed e) {
            throw new Malformed(i, "an executable comment that reads differently on servers that run it and"
                    + " servers that skip it (" + e.getMessage() + ")");
        }
        return end + 2;
    }

    /** A string or a quoted name: the quote doubled stands for itself; with escapes, a backslash keeps the next char. */
    private int quoted(int i, int to, char quote, boolean escapes, Kind kind) {
        StringBuilder value = new StringBuilder();
        int j = i + 1;
        while (j < to) {
            char c = sql.charAt(j);
            if (escapes && c == '\\') {
                if (j + 1 >= to) {
                    break;
                }
                value.append(unescape(sql.charAt(j + 1)));
                j += 2;
            } else if (c == quote) {
                if (j + 1 < to && sql.charAt(j + 1) == quote) {
                    value.append(quote);
                    j += 2;
                } else {
                    add(kind, value.toString(), i);
                    return j + 1;
                }
            } else {
                value.append(c);
                j++;
            }
        }
        throw new Malformed(i, kind == Kind.STRING ? "an unterminated string" : "an unterminated quoted name");
    }

    /** What the server makes of a backslash and {@code c} in a string (only letters matter here). */
    private static String unescape(char c) {
        return switch (c) {
            case 'n' -> "\n";
            case 't' -> "\t";
            case 'r' -> "\r";
            case 'b' -> "\b";
            case '0' -> "\0";
            case 'Z' -> "\032";
            case '_', '%' -> "\\" + c;
            default -> String.valueOf(c);
        };
    }

    /**
     * Digits: an integer, a decimal ({@code 1.5}, {@code 1.}), a float ({@code 1e5}, {@code 1e+5}, {@code 1.5e-3}),
     * or, when name characters follow, a name ({@code 123abc}, {@code 1e}, {@code 0x1F}, which counts the same here).
     */
    private int numberOrName(int i, int to) {
        int j = i;
        while (j < to && isDigit(sql.charAt(j))) {
            j++;
        }
        if (j < to && sql.charAt(j) == '.' && at(j + 1) != '.') {
            return fraction(i, j + 1, to);
        }
        if (j < to && (sql.charAt(j) == 'e' || sql.charAt(j) == 'E')
                && (isDigit(at(j + 1)) || (at(j + 1) == '+' || at(j + 1) == '-') && isDigit(at(j + 2)))) {
            return exponent(i, j, to);
        }
        while (j < to && isNameChar(sql.charAt(j))) {
            j++;
        }
        add(Kind.WORD, sql.substring(i, j), i);
        return j;
    }

    /** The digits after a decimal point at {@code j - 1}, then an optional exponent. */
    private int fraction(int start, int j, int to) {
        while (j < to && isDigit(sql.charAt(j))) {
            j++;
        }
        if (j < to && (sql.charAt(j) == 'e' || sql.charAt(j) == 'E')) {
            return exponent(start, j, to);
        }
        add(Kind.NUMBER, sql.substring(start, j), start);
        return j;
    }

    /** The exponent at {@code e}: a sign and at least one digit. */
    private int exponent(int start, int e, int to) {
        int j = e + 1;
        if (j < to && (sql.charAt(j) == '+' || sql.charAt(j) == '-')) {
            j++;
        }
        if (j >= to || !isDigit(sql.charAt(j))) {
            throw new Malformed(start, "a malformed number");
        }
        while (j < to && isDigit(sql.charAt(j))) {
            j++;
        }
        add(Kind.NUMBER, sql.substring(start, j), start);
        return j;
    }

    /** Whether a name (or a quoted name, or a string) ends at {@code i}. */
    private boolean endsName(int i) {
        return i >= 0 && (isNameChar(sql.charAt(i)) || "`\"'".indexOf(sql.charAt(i)) >= 0);
    }

    /** The server's white space: space, tab, line feed, vertical tab, form feed, carriage return. */
    private static boolean isSpace(char c) {
        return c == ' ' || c >= '\t' && c <= '\r';
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** Letters, digits, _ and $, and every non-ASCII character (the connection speaks utf8mb4). */
    private static boolean isNameChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '_' || c == '$' || c >= 0x80;
    }
}
