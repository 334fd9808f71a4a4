package io.shardschema.runner;

import io.shardschema.catalog.Catalog;
import io.shardschema.config.LocalFiles;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The output of a long run (an online change): appended line by line to a per-run file under {@code logDir} (a
 * private directory; the file is never reached through a link), and
 * written to the run's {@code log} row on every {@link #flush}, so a crash loses only the last few seconds.
 */
final class RunOutput implements AutoCloseable {
    /** The log row keeps the last this many characters; the file keeps everything. */
    private static final int ROW_LIMIT = 1 << 20;

    private final Catalog catalog;
    private final long shardId;
    private final int version;
    private final int run;
    private final Path file;
    private final BufferedWriter writer;
    private final StringBuilder text = new StringBuilder();
    private boolean dirty;

    RunOutput(Catalog catalog, Path logDir, long shardId, int version, int run) throws IOException {
        this.catalog = catalog;
        this.shardId = shardId;
        this.version = version;
        this.run = run;
        this.file = LocalFiles.privateDirectory(logDir).resolve("shard-" + shardId + "-v" + version + "-run" + run
                + ".log");
        this.writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND, LinkOption.NOFOLLOW_LINKS);
    }

    synchronized void line(String line) {
        text.append(line).append('\n');
        if (text.length() > ROW_LIMIT) {
            text.delete(0, text.length() - ROW_LIMIT);
        }
        try {
            writer.write(line);
            writer.newLine();
        } catch (IOException e) {
            // The catalog row still gets the line; a full disk must not fail the change.
        }
        dirty = true;
    }

    synchronized String text() {
        return text.toString();
    }

    Path file() {
        return file;
    }

    /** Writes what is new to the file and the log row. */
    void flush() {
        String snapshot;
        synchronized (this) {
            if (!dirty) {
                return;
            }
            dirty = false;
            snapshot = text.toString();
            try {
                writer.flush();
            } catch (IOException e) {
                // as in line()
            }
        }
        catalog.recordOutput(shardId, version, run, snapshot);
    }

    @Override
    public synchronized void close() throws IOException {
        writer.close();
    }
}
