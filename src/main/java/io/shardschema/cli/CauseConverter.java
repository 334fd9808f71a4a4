package io.shardschema.cli;

import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;

/**
 * Logback's {@code %cause}: a logged exception as one line, its message and its root cause's, instead of a stack
 * trace. For the connection pool, whose warnings during an outage carry driver exceptions that say nothing more
 * in their stack than in their message.
 */
public final class CauseConverter extends ClassicConverter {
    @Override
    public String convert(ILoggingEvent event) {
        IThrowableProxy thrown = event.getThrowableProxy();
        if (thrown == null) {
            return "";
        }
        IThrowableProxy root = thrown;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        String text = ": " + thrown.getMessage() + (root == thrown ? "" : " (" + root.getMessage() + ")");
        return text.replaceAll("\\s*[\\r\\n]+\\s*", " ");
    }
}
