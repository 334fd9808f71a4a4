package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Shard;
import io.shardschema.catalog.ShardName;
import io.shardschema.change.ChangeStatement;
import io.shardschema.schema.DataChecksum;
import io.shardschema.schema.SchemaSnapshot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "checksum", mixinStandardHelpOptions = true, description = "A shard's schema fingerprint and the"
        + " CHECKSUM TABLE of each of its tables (reads every row: mind big tables).")
final class ChecksumCommand implements Callable<Integer> {
    private final Context context;
    @Mixin
    JsonOption json;
    @Option(names = "--shard", required = true, paramLabel = "ID", description = "The shard.")
    long shard;
    @Option(names = "--table", paramLabel = "T", description = "Only this table.")
    String table;

    ChecksumCommand(Context context) {
        this.context = context;
    }

    record Result(long shard, String schema, String server, String fingerprint, Map<String, Long> checksums)
            implements Report {
        @Override
        public String text() {
            StringBuilder sb = new StringBuilder(String.format("%s: schema fingerprint %s%n",
                    ShardName.text(shard, schema, server), fingerprint));
            checksums.forEach((t, sum) -> sb.append(String.format("  %-40s %d%n", t, sum)));
            return sb.toString().stripTrailing();
        }
    }

    private record Sums(SchemaSnapshot schema, Map<String, Long> checksums) {
    }

    @Override
    public Integer call() {
        if (table != null) {
            ChangeStatement.checkTableName(table);
        }
        Shard s = context.catalog().requireShard(shard);
        Sums sums = FleetSchemas.one(context.config(), context.catalog().dsn(), s, c -> {
            SchemaSnapshot schema = SchemaSnapshot.read(c, c.getCatalog(), table);
            return new Sums(schema, DataChecksum.of(c, c.getCatalog(), schema.tables().keySet()));
        });
        if (table != null && sums.checksums().isEmpty()) {
            throw ShardSchemaException.usage(s.name().text() + " has no table " + table);
        }
        return context.print(new Result(shard, s.schemaName(), s.serverKey(), sums.schema().fingerprint(),
                sums.checksums()), json);
    }
}
