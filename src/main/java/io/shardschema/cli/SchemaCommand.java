package io.shardschema.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "schema", mixinStandardHelpOptions = true,
        description = "Read shards' schemas and find drift, across the fleet or between a shard and its replicas.",
        subcommands = {SchemaGetCommand.class, SchemaValidateCommand.class, SchemaValidateShardCommand.class})
final class SchemaCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand: get, validate or validate-shard");
    }
}
