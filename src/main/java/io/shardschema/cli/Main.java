package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;

/** The {@code shardschema} executable: one subcommand per verb; exit codes as in DESIGN.md. */
@Command(name = "shardschema", mixinStandardHelpOptions = true, version = "shardschema 0.1.0",
        description = "Roll numbered schema changes out to a fleet of MySQL/MariaDB shards.",
        subcommands = {InitCommand.class, ApplyCommand.class, ShardCommand.class, VersionCommand.class, RunCommand.class, SchemaCommand.class,
                DiffCommand.class, ChecksumCommand.class, LastVersionCommand.class, PreflightCommand.class, BaselineCommand.class,
                DownCommand.class, UpCommand.class,
                StatusCommand.class, LogCommand.class, RetryCommand.class, ApproveCommand.class, CutoverCommand.class,
                CancelCommand.class, TrashCommand.class, ThrottleCommand.class, ServeCommand.class, DemoCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    private final Context context;

    Main(Context context) {
        this.context = context;
    }

    @Option(names = "--config", paramLabel = "FILE", scope = CommandLine.ScopeType.INHERIT,
            description = "Config file (default: $SHARDSCHEMA_CONFIG, else /etc/ShardSchema.cnf, else the embedded catalog).")
    void setConfig(Path file) {
        context.configFile = file;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(new CommandLine(this), "missing command; see shardschema --help");
    }

    public static void main(String[] args) {
        System.exit(execute(args, System.out, System.err, System.getenv()));
    }

    public static int execute(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
        try (Context context = new Context(out, err, env)) {
            return execute(args, context);
        } catch (ShardSchemaException e) {
            err.println("error: " + e.getMessage());
            return e.exitCode();
        }
    }

    /** Runs one command in {@code context}; a failure is printed on its err stream and recorded in it. */
    static int execute(String[] args, Context context) {
        return execute(args, context, false);
    }

    /**
     * As {@link #execute(String[], Context)}; {@code attachedValues}: the caller is the HTTP API, whose option
     * values all come attached ({@code --name=value}), so a value that looks like an option ("--force") is a
     * value; and a bug's stack trace goes to the log, since nobody reads the command's stderr there.
     */
    static int execute(String[] args, Context context, boolean attachedValues) {
        CommandLine cli = new CommandLine(new Main(context), new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                try {
                    return cls.getDeclaredConstructor(Context.class).newInstance(context);
                } catch (NoSuchMethodException e) {
                    return CommandLine.defaultFactory().create(cls);
                }
            }
        });
        cli.setAllowOptionsAsOptionParameters(attachedValues);
        cli.setOut(new PrintWriter(context.out, true));
        cli.setErr(new PrintWriter(context.err, true));
        CommandLine.IParameterExceptionHandler usage = cli.getParameterExceptionHandler();
        cli.setParameterExceptionHandler((e, arguments) -> {
            context.record(new Context.Failure(e.getMessage(), ShardSchemaException.USAGE, false, false));
            return usage.handleParseException(e, arguments);
        });
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            ShardSchemaException known = find(e);
            if (known != null) {
                context.fail(new Context.Failure(known.getMessage(), known.exitCode(), known.notFound(), false));
                return known.exitCode();
            }
            boolean database = e instanceof java.sql.SQLException;
            context.fail(new Context.Failure(database ? io.shardschema.config.DataSources.rootMessage(e) : e.toString(),
                    ShardSchemaException.ERROR, false, !database));
            org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Main.class);
            if (attachedValues && !database) {
                // In the HTTP server nobody sees stderr: a bug's stack trace goes to the server's log.
                log.error("unexpected failure of {}", String.join(" ", cmd.getCommandSpec().qualifiedName()), e);
            } else {
                log.debug("unexpected failure", e);
            }
            return ShardSchemaException.ERROR;
        });
        return cli.execute(args);
    }

    private static ShardSchemaException find(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof ShardSchemaException s) {
                return s;
            }
        }
        return null;
    }
}
