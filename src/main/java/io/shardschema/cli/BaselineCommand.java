package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Shard;
import io.shardschema.catalog.ShardName;
import io.shardschema.schema.SchemaSnapshot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

@Command(name = "baseline", mixinStandardHelpOptions = true, description = "Mark an existing shard as being at version"
        + " V, after checking that its schema is exactly the one expected at V. Refused (exit 4) with the diff"
        + " otherwise.")
final class BaselineCommand implements Callable<Integer> {
    private final Context context;
    @Mixin
    JsonOption json;
    @Option(names = "--shard", required = true, paramLabel = "ID", description = "The shard.")
    long shard;
    @Option(names = "--version", required = true, paramLabel = "V", description = "The version it is at.")
    int version;

    BaselineCommand(Context context) {
        this.context = context;
    }

    record Result(long shard, String schema, String server, int fromVersion, int version, String fingerprint)
            implements Report {
        @Override
        public String text() {
            return ShardName.text(shard, schema, server) + " is now at version " + version + " (was " + fromVersion
                    + "); its schema is the expected one (" + fingerprint.substring(0, 12) + ")";
        }
    }

    @Override
    public Integer call() {
        Shard target = context.catalog().requireShard(shard);
        if (target.state().equals("running") || target.state().equals("waiting")) {
            // Its schema may be half way through a change: not one to compare.
            throw new ShardSchemaException(ShardSchemaException.REFUSED, "shard " + shard + " is being worked by a"
                    + " runner or waits at a gate; try again when it is idle");
        }
        SchemaSnapshot expected = ExpectedSchemas.at(context.catalog(), version);
        SchemaSnapshot actual = FleetSchemas.one(context.config(), context.catalog().dsn(), target,
                c -> SchemaSnapshot.read(c, c.getCatalog(), null));
        String diff = expected.diff(actual, "expected at version " + version, DiffCommand.label(target));
        if (!diff.isEmpty()) {
            throw new ShardSchemaException(ShardSchemaException.REFUSED, "shard " + shard + " does not have the schema"
                    + " expected at version " + version + "; nothing was changed:\n" + diff.stripTrailing());
        }
        context.catalog().baseline(shard, target.version(), version, actual.fingerprint());
        return context.print(new Result(shard, target.schemaName(), target.serverKey(), target.version(), version,
                actual.fingerprint()), json);
    }
}
