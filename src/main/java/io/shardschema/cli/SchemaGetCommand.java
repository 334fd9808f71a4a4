package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Shard;
import io.shardschema.catalog.ShardName;
import io.shardschema.change.ChangeStatement;
import io.shardschema.schema.SchemaSnapshot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "get", mixinStandardHelpOptions = true, description = "A shard's normalised schema (tables in name"
        + " order, without AUTO_INCREMENT counters or online changes' transient tables) and its fingerprint.")
final class SchemaGetCommand implements Callable<Integer> {
    private final Context context;
    @Mixin
    JsonOption json;
    @Option(names = "--shard", required = true, paramLabel = "ID", description = "The shard.")
    long shard;
    @Option(names = "--table", paramLabel = "T", description = "Only this table.")
    String table;

    SchemaGetCommand(Context context) {
        this.context = context;
    }

    record Result(long shard, String schema, String server, int version, String fingerprint, Map<String, String> tables)
            implements Report {
        @Override
        public String text() {
            StringBuilder sb = new StringBuilder(String.format("-- %s at version %d, fingerprint %s%n%n",
                    ShardName.text(shard, schema, server), version, fingerprint));
            tables.values().forEach(t -> sb.append(t).append(";\n\n"));
            return sb.toString().stripTrailing();
        }
    }

    @Override
    public Integer call() {
        if (table != null) {
            ChangeStatement.checkTableName(table);
        }
        Shard s = context.catalog().requireShard(shard);
        SchemaSnapshot schema = FleetSchemas.one(context.config(), context.catalog().dsn(), s,
                c -> SchemaSnapshot.read(c, c.getCatalog(), table));
        if (table != null && schema.tables().isEmpty()) {
            throw ShardSchemaException.usage(s.name().text() + " has no table " + table);
        }
        return context.print(new Result(shard, s.schemaName(), s.serverKey(), s.version(), schema.fingerprint(),
                schema.tables()), json);
    }
}
