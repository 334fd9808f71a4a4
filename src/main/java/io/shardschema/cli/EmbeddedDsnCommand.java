package io.shardschema.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

@Command(name = "embedded-dsn", mixinStandardHelpOptions = true, description = "Print the embedded MariaDB's DSN,"
        + " without password (shard DSNs on it need none), for `shard add` and `shard discover`.")
final class EmbeddedDsnCommand implements Callable<Integer> {
    private final Context context;
    @Mixin
    JsonOption json;

    EmbeddedDsnCommand(Context context) {
        this.context = context;
    }

    record Result(String dsn) implements Report {
        @Override
        public String text() {
            return dsn;
        }
    }

    @Override
    public Integer call() {
        return context.print(new Result(context.embedded().dsn(null).withoutPassword().toGoForm(false)), json);
    }
}
