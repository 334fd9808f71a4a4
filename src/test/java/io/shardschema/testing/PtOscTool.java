package io.shardschema.testing;

import java.io.IOException;
import java.nio.file.Path;

/** Makes sure pt-online-schema-change is installed (scripts/install-percona-toolkit), once per test JVM. */
public final class PtOscTool {
    private static boolean ready;

    private PtOscTool() {
    }

    public static synchronized void ensureInstalled() {
        if (ready) {
            return;
        }
        Path script = Path.of("scripts", "install-percona-toolkit").toAbsolutePath();
        try {
            Process p = new ProcessBuilder(script.toString()).inheritIO().start();
            if (p.waitFor() != 0) {
                throw new IllegalStateException(script + " failed (exit " + p.exitValue() + "): the online tests"
                        + " need pt-online-schema-change");
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + script, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        ready = true;
    }
}
