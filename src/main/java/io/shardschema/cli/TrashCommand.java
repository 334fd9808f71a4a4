package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Shard;
import io.shardschema.config.DataSources;
import io.shardschema.config.Dsn;
import io.shardschema.runner.ShardConnections;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.sql.Connection;
import java.util.LinkedHashMap;
import java.util.Map;

@Command(name = "trash", mixinStandardHelpOptions = true, description = "The pending-drops database of every shard"
        + " server: tables swapped out by online cut-overs or dropped by versions.",
        subcommands = {TrashListCommand.class, TrashPurgeCommand.class})
final class TrashCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand: list or purge");
    }

    /** What a trash subcommand does on one server's connection. */
    interface OnServer {
        void accept(String server, Connection c) throws java.sql.SQLException;
    }

    /** Runs {@code work} on every server that holds shards, through the credentials a runner would use. */
    static void eachServer(Context context, OnServer work) {
        Map<String, Shard> oneShardPerServer = new LinkedHashMap<>();
        for (Shard s : context.catalog().shards()) {
            oneShardPerServer.putIfAbsent(s.serverKey(), s);
        }
        try (ShardConnections shards = new ShardConnections(context.config(), context.catalog().dsn(), 1)) {
            for (Map.Entry<String, Shard> e : oneShardPerServer.entrySet()) {
                Dsn dsn = shards.effective(e.getValue().dsn(), e.getValue().schemaName()).withDatabase(null);
                try (Connection c = DataSources.connect(dsn)) {
                    work.accept(e.getKey(), c);
                } catch (java.sql.SQLException ex) {
                    throw ShardSchemaException.error("server " + e.getKey() + ": " + DataSources.rootMessage(ex), ex);
                }
            }
        }
    }
}
