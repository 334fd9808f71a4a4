package io.shardschema;

/** Text from outside (a server's schema names, a DSN's host) made safe to print on a terminal or in a log line. */
public final class Printable {
    private Printable() {
    }

    /**
     * The text with every control or formatting character (terminal escapes, line breaks, bidirectional overrides)
     * written as {@code \\uXXXX}, and backslashes doubled so that the escaping cannot be faked.
     */
    public static String escape(String text) {
        StringBuilder sb = new StringBuilder(text.length());
        text.codePoints().forEach(cp -> {
            if (cp == '\\') {
                sb.append("\\\\");
            } else if (needsEscape(cp)) {
                sb.append(String.format("\\u%04X", cp));
            } else {
                sb.appendCodePoint(cp);
            }
        });
        return sb.toString();
    }

    /** Whether the character would act on a terminal or reorder text instead of showing as itself. */
    public static boolean needsEscape(int codePoint) {
        return Character.isISOControl(codePoint) || Character.getType(codePoint) == Character.FORMAT;
    }
}
