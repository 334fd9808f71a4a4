package io.shardschema.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "shard", mixinStandardHelpOptions = true, description = "Register, discover, list and remove shards.",
        subcommands = {ShardAddCommand.class, ShardDiscoverCommand.class, ShardListCommand.class,
                ShardRemoveCommand.class})
final class ShardCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand: add, discover, list or remove");
    }
}
