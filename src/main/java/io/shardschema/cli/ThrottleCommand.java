package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.config.Config;
import io.shardschema.runner.ThrottleControl;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "throttle", mixinStandardHelpOptions = true, description = "Write the throttling file that running runners re-read every second:"
        + " 'pause' (start nothing new), 'resume' (full speed), 'workers N' (at most N tasks per runner).")
final class ThrottleCommand implements Callable<Integer> {
    private final Context context;
    @Mixin
    JsonOption json;
    @Parameters(arity = "1..2", paramLabel = "pause|resume|workers N")
    List<String> words;

    ThrottleCommand(Context context) {
        this.context = context;
    }

    record Result(String file, String state) implements Report {
        @Override
        public String text() {
            return "throttle: " + state;
        }
    }

    @Override
    public Integer call() {
        Path file = context.config().throttlingFile();
        String verb = words.get(0);
        switch (verb) {
            case "pause" -> {
                expectWords(1);
                ThrottleControl.write(file, "pause");
            }
            case "resume" -> {
                expectWords(1);
                ThrottleControl.remove(file);
            }
            case "workers" -> {
                expectWords(2);
                String n = words.get(1);
                int count = n.matches("\\d{1,4}") ? Integer.parseInt(n) : -1;
                if (count < 1 || count > Config.MAX_WORKERS) {
                    throw ShardSchemaException.usage("throttle workers N: N must be a whole number, at least 1 (use"
                            + " pause to stop) and at most " + Config.MAX_WORKERS + "; got '" + n + "'");
                }
                ThrottleControl.write(file, "workers " + count);
            }
            default -> throw ShardSchemaException.usage("throttle: expected pause, resume or workers N, got '" + verb + "'");
        }
        return context.print(new Result(file.toString(), ThrottleControl.read(file).description()), json);
    }

    private void expectWords(int n) {
        if (words.size() != n) {
            throw ShardSchemaException.usage("throttle " + words.get(0) + (n == 1 ? " takes no argument" : " needs a number"));
        }
    }
}
