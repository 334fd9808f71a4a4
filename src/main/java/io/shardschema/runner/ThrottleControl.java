package io.shardschema.runner;

import io.shardschema.ShardSchemaException;
import io.shardschema.config.LocalFiles;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * The run-time controls a DBA drives from outside the runner: the throttling file ({@code pause}, {@code workers N},
 * absent = full speed) and the stop file. Re-read at most every {@link #REFRESH}, so a change reaches running
 * runners within a second. An unreadable or garbled throttling file fails closed: it counts as a pause, and so does
 * one that other users could have written (see {@link LocalFiles#untrusted}): its "resume" or "workers N" may not be
 * the DBA's, while its pause might be. A stop file stops whoever made it (links are not followed). The interval
 * is measured on a monotonic ticker, not the wall clock: a clock stepped back must not hide the files for as long.
 */
public final class ThrottleControl {
    public static final Duration REFRESH = Duration.ofMillis(500);
    /** A throttling file holds a word or two: a larger one is garbled, and read no further. */
    private static final int MAX_BYTES = 1024;

    /** The throttle in force: paused, or at most {@code workerLimit} tasks at once (null: no limit). */
    public record State(boolean paused, Integer workerLimit, String description) {
        static final State FULL_SPEED = new State(false, null, "full speed");

        public int limit(int workers) {
            return paused ? 0 : workerLimit == null ? workers : Math.min(workers, workerLimit);
        }
    }

    private final Path throttlingFile;
    private final Path stopFile;
    /** Nanoseconds from an arbitrary origin that only moves forward (System.nanoTime). */
    private final LongSupplier ticker;
    private long nextRead;
    private State state = State.FULL_SPEED;
    private boolean stop;

    public ThrottleControl(Path throttlingFile, Path stopFile) {
        this(throttlingFile, stopFile, System::nanoTime);
    }

    ThrottleControl(Path throttlingFile, Path stopFile, LongSupplier ticker) {
        this.throttlingFile = throttlingFile;
        this.stopFile = stopFile;
        this.ticker = ticker;
        this.nextRead = ticker.getAsLong();
    }

    public synchronized State state() {
        refresh();
        return state;
    }

    public synchronized boolean stopRequested() {
        refresh();
        return stop;
    }

    private void refresh() {
        long now = ticker.getAsLong();
        // A difference, not a comparison of the values: nanoTime may wrap.
        if (now - nextRead < 0) {
            return;
        }
        nextRead = now + REFRESH.toNanos();
        state = read(throttlingFile);
        stop = stopFile != null && stopFilePresent(stopFile);
    }

    /**
     * Whether the stop file is there: anything at its path, a link too (not followed), stops the runners, except
     * another user's file in a shared sticky directory such as /tmp (see {@link LocalFiles#plantedInSharedDirectory}).
     */
    public static boolean stopFilePresent(Path stopFile) {
        try {
            return Files.exists(stopFile, LinkOption.NOFOLLOW_LINKS) && !LocalFiles.plantedInSharedDirectory(stopFile);
        } catch (IOException e) {
            // Cannot tell whose it is: it is there, so it stops (fail closed).
            return true;
        }
    }

    /** Parses a throttling file; absent means full speed. */
    public static State read(Path file) {
        String text;
        try {
            if (LocalFiles.plantedInSharedDirectory(file)) {
                return new State(false, null, "full speed; ignoring " + file + ": another user's file in a directory"
                        + " anyone may write");
            }
            Optional<String> untrusted = LocalFiles.untrusted(file);
            if (untrusted.isPresent()) {
                return new State(true, null, "paused: throttling file not trusted: " + untrusted.get()
                        + "; remove it, or write it with `shardschema throttle` as this user");
            }
            try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
                text = new String(in.readNBytes(MAX_BYTES), StandardCharsets.UTF_8).strip().toLowerCase(Locale.ROOT);
            }
        } catch (NoSuchFileException e) {
            return State.FULL_SPEED;
        } catch (IOException e) {
            return new State(true, null, "paused: cannot read throttling file " + file + " (" + e.getMessage() + ")");
        }
        if (text.equals("resume")) {
            return State.FULL_SPEED;
        }
        if (text.isEmpty()) {
            // `echo pause > file` empties the file before writing it: an empty file is read mid-write, so it pauses.
            return new State(true, null, "paused: throttling file " + file + " is empty");
        }
        if (text.equals("pause")) {
            return new State(true, null, "paused by " + file);
        }
        String[] parts = text.split("[\\s=]+");
        if (parts.length == 2 && parts[0].equals("workers")) {
            try {
                int n = Integer.parseInt(parts[1]);
                if (n >= 0) {
                    return n == 0 ? new State(true, null, "paused by " + file + " (workers 0)")
                            : new State(false, n, "at most " + n + " workers, set by " + file);
                }
            } catch (NumberFormatException ignored) {
                // falls through to fail closed
            }
        }
        return new State(true, null, "paused: throttling file " + file + " holds '" + abbreviate(text)
                + "', expected 'pause' or 'workers N'");
    }

    private static String abbreviate(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    /** Replaces the throttling file atomically, so a runner never reads half a file. */
    public static void write(Path file, String content) {
        try {
            Path dir = LocalFiles.sharedDirectory(file.toAbsolutePath().getParent());
            // Readable by all: `status` may run as another user. The rename replaces a link, never follows it.
            Path tmp = Files.createTempFile(dir, ".throttle", ".tmp", java.nio.file.attribute.PosixFilePermissions
                    .asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--")));
            Files.writeString(tmp, content + "\n");
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw ShardSchemaException.error("cannot write throttling file " + file + ": " + e.getMessage(), e);
        }
    }

    public static void remove(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw ShardSchemaException.error("cannot remove throttling file " + file + ": " + e.getMessage(), e);
        }
    }
}
