package io.shardschema.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shardschema.cli.Main;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** Runs the real command line in-process and captures what it prints and its exit code. */
public final class Cli {
    private Cli() {
    }

    public record Result(int exit, String out, String err) {
        public String all() {
            return out + err;
        }

        /** The JSON document a command printed with --json. */
        public JsonNode json() {
            try {
                return new ObjectMapper().readTree(out);
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON: " + out, e);
            }
        }
    }

    /** Runs the command line on a thread of its own (so several can run at once); the future holds its result. */
    public static CompletableFuture<Result> start(Path config, String... args) {
        CompletableFuture<Result> result = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                result.complete(run(config, args));
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        }, "cli-" + String.join("-", args));
        t.setDaemon(true);
        t.start();
        return result;
    }

    public static Result run(Path config, String... args) {
        List<String> all = new ArrayList<>();
        if (config != null) {
            all.add("--config");
            all.add(config.toString());
        }
        all.addAll(List.of(args));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = Main.execute(all.toArray(String[]::new), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of());
        return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
