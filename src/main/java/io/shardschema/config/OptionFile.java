package io.shardschema.config;

import io.shardschema.ShardSchemaException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A MySQL option file ({@code defaultsFile}), read for the {@code user} and {@code password} of its
 * {@code [client]} section: where shard credentials live, since the catalog never stores a password.
 */
public record OptionFile(Optional<String> user, Optional<String> password) {

    public static OptionFile read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw ShardSchemaException.usage("cannot read defaultsFile " + file + ": " + e.getMessage());
        }
        String section = "";
        String user = null;
        String password = null;
        for (String raw : lines) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
                continue;
            }
            if (line.startsWith("[") && line.endsWith("]")) {
                section = line.substring(1, line.length() - 1).strip();
                continue;
            }
            if (!section.equals("client")) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq < 0) {
                continue;
            }
            String key = line.substring(0, eq).strip().replace('_', '-');
            String value = line.substring(eq + 1).strip();
            if (value.length() >= 2 && (value.startsWith("\"") && value.endsWith("\"")
                    || value.startsWith("'") && value.endsWith("'"))) {
                value = value.substring(1, value.length() - 1);
            }
            if (key.equals("user")) {
                user = value;
            } else if (key.equals("password")) {
                password = value;
            }
        }
        return new OptionFile(Optional.ofNullable(user), Optional.ofNullable(password));
    }
}
