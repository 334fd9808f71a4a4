package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Shard;
import io.shardschema.schema.SchemaSnapshot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "diff", mixinStandardHelpOptions = true, description = "The unified diff between two shards'"
        + " normalised schemas (--shard A --shard B). Exit 0 when they are the same, 3 when they differ.")
final class DiffCommand implements Callable<Integer> {
    private final Context context;
    @Mixin
    JsonOption json;
    @Option(names = "--shard", required = true, paramLabel = "ID", description = "Twice: the two shards.")
    List<Long> shards;

    DiffCommand(Context context) {
        this.context = context;
    }

    record Result(long from, long to, String fromFingerprint, String toFingerprint, String diff) implements Report {
        @Override
        public String text() {
            return diff.isEmpty() ? "shards " + from + " and " + to + " have the same schema (" + fromFingerprint.substring(0, 12) + ")"
                    : diff.stripTrailing();
        }
    }

    @Override
    public Integer call() {
        if (shards.size() != 2) {
            throw ShardSchemaException.usage("give --shard exactly twice (the two shards to compare)");
        }
        List<Shard> two = shards.stream().map(context.catalog()::requireShard).toList();
        List<FleetSchemas.Read<SchemaSnapshot>> reads = FleetSchemas.schemas(context.config(), context.catalog().dsn(),
                two, null, 2);
        for (FleetSchemas.Read<SchemaSnapshot> r : reads) {
            if (r.error() != null) {
                throw ShardSchemaException.error("shard " + r.shard().id() + " (" + r.shard().schemaName() + "): " + r.error());
            }
        }
        FleetSchemas.Read<SchemaSnapshot> a = reads.get(0);
        FleetSchemas.Read<SchemaSnapshot> b = reads.get(1);
        String diff = a.value().diff(b.value(), "shard " + a.shard().id() + " (" + a.shard().schemaName() + ")",
                "shard " + b.shard().id() + " (" + b.shard().schemaName() + ")");
        context.print(new Result(a.shard().id(), b.shard().id(), a.value().fingerprint(), b.value().fingerprint(),
                diff), json);
        return diff.isEmpty() ? 0 : ShardSchemaException.SOME_FAILED;
    }
}
