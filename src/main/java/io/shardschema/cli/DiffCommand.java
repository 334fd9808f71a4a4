package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Shard;
import io.shardschema.catalog.ShardName;
import io.shardschema.schema.SchemaSnapshot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "diff", mixinStandardHelpOptions = true, description = "The unified diff between two shards'"
        + " normalised schemas (--shard A --shard B), or between a shard and the schema it should have at a version"
        + " (--shard A --version V). Exit 0 when they are the same, 3 when they differ.")
final class DiffCommand implements Callable<Integer> {
    private final Context context;
    @Mixin
    JsonOption json;
    @Option(names = "--shard", required = true, paramLabel = "ID", description = "Twice: the two shards; once with"
            + " --version.")
    List<Long> shards;
    @Option(names = "--version", paramLabel = "V", description = "Compare with the expected schema at version V.")
    Integer version;

    DiffCommand(Context context) {
        this.context = context;
    }

    /**
     * {@code from} and {@code to} are the two sides' labels; {@code fromShard} and {@code toShard} name the shards
     * ({@code fromShard} is null when the first side is a version's expected schema).
     */
    record Result(String from, String to, ShardName fromShard, ShardName toShard, String fromFingerprint,
                  String toFingerprint, String diff) implements Report {
        @Override
        public String text() {
            return diff.isEmpty() ? from + " and " + to + " have the same schema (" + fromFingerprint.substring(0, 12) + ")"
                    : diff.stripTrailing();
        }
    }

    @Override
    public Integer call() {
        if (shards.size() != (version == null ? 2 : 1)) {
            throw ShardSchemaException.usage(version == null ? "give --shard twice (the two shards to compare), or"
                    + " --shard once with --version" : "with --version, give --shard once");
        }
        List<Shard> targets = shards.stream().map(context.catalog()::requireShard).toList();
        SchemaSnapshot expected = version == null ? null : ExpectedSchemas.at(context.catalog(), version);
        List<FleetSchemas.Read<SchemaSnapshot>> reads = FleetSchemas.schemas(context.config(), context.catalog().dsn(),
                targets, null, 2);
        for (FleetSchemas.Read<SchemaSnapshot> r : reads) {
            if (r.error() != null) {
                throw ShardSchemaException.error(r.shard().name().text() + ": " + r.error());
            }
        }
        String fromLabel = expected != null ? "expected at version " + version : label(reads.get(0).shard());
        SchemaSnapshot from = expected != null ? expected : reads.get(0).value();
        FleetSchemas.Read<SchemaSnapshot> to = reads.get(reads.size() - 1);
        String diff = from.diff(to.value(), fromLabel, label(to.shard()));
        context.print(new Result(fromLabel, label(to.shard()), expected != null ? null : reads.get(0).shard().name(),
                to.shard().name(), from.fingerprint(), to.value().fingerprint(), diff), json);
        return diff.isEmpty() ? 0 : ShardSchemaException.SOME_FAILED;
    }

    static String label(Shard shard) {
        return shard.name().text();
    }
}
