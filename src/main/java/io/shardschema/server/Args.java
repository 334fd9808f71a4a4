package io.shardschema.server;

import java.util.ArrayList;
import java.util.List;

/**
 * A command line built from a request. Options are always written as {@code --name=value}, so a value that looks
 * like an option ("--force") stays a value.
 */
final class Args {
    private final List<String> words = new ArrayList<>();

    static Args of(String... command) {
        Args a = new Args();
        a.words.addAll(List.of(command));
        return a;
    }

    Args option(String name, Object value) {
        if (value != null) {
            words.add("--" + name + "=" + value);
        }
        return this;
    }

    Args each(String name, List<?> values) {
        values.forEach(v -> option(name, v));
        return this;
    }

    Args flag(String name, boolean on) {
        if (on) {
            words.add("--" + name);
        }
        return this;
    }

    /** A positional word; the routes pass only numbers they matched or words they checked. */
    Args word(Object word) {
        words.add(String.valueOf(word));
        return this;
    }

    List<String> json() {
        List<String> out = new ArrayList<>(words);
        out.add("--json");
        return out;
    }
}
