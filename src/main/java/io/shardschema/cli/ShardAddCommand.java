package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Catalog;
import io.shardschema.catalog.SchemaNames;
import io.shardschema.config.Dsn;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

@Command(name = "add", mixinStandardHelpOptions = true, description = "Register one shard: a schema on a server. Checks that the schema exists there.")
final class ShardAddCommand implements Callable<Integer> {
    private final Context context;
    @Mixin
    JsonOption json;
    @Option(names = "--schema", description = "Schema name (default: the DSN's database).")
    String schema;
    @Option(names = "--dsn", required = true, description = "Server, e.g. user@tcp(host:3306)/ or a JDBC URL.")
    String dsnText;
    @Option(names = "--no-check", description = "Register without connecting to check that the schema exists.")
    boolean noCheck;
    @Option(names = "--replica", paramLabel = "DSN", description = "A replica of the shard's server (repeatable), for"
            + " `schema validate-shard`; it holds the same schema. Stored without password; not connected to here.")
    List<String> replicaTexts = List.of();

    ShardAddCommand(Context context) {
        this.context = context;
    }

    record Result(long shardId, String schema, String dsn, List<String> replicas) implements Report {
        @Override
        public String text() {
            return String.valueOf(shardId);
        }
    }

    /** A shard checked and ready to register: its schema, DSN (with any password given), identity and replicas. */
    record Checked(String schema, Dsn dsn, String identity, List<Dsn> replicas) {
    }

    @Override
    public Integer call() throws SQLException {
        return context.print(register(context, check(context, schema, dsnText, noCheck, replicaTexts)), json);
    }

    /**
     * Parses and checks a shard as `shard add` is given it, writing nothing: the name, the replicas, and (unless
     * {@code noCheck}) that the schema exists on its server, whose identity it reads.
     */
    static Checked check(Context context, String schema, String dsnText, boolean noCheck, List<String> replicaTexts)
            throws SQLException {
        Dsn dsn = ShardTarget.parse(context, dsnText);
        String name = schema != null ? schema : dsn.database();
        if (name == null) {
            throw ShardSchemaException.usage("no schema: give --schema or put it in the DSN (.../schema)");
        }
        SchemaNames.check(name);
        Dsn shardDsn = dsn.withDatabase(name);
        List<Dsn> replicas = replicas(context, shardDsn, replicaTexts);
        String identity = null;
        if (!noCheck) {
            try (Connection c = ShardTarget.connect(context, shardDsn);
                 PreparedStatement ps = c.prepareStatement("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?")) {
                ps.setString(1, name);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw ShardSchemaException.usage("schema " + name + " does not exist on " + shardDsn.serverKey()
                                + "; nothing was registered");
                    }
                }
                identity = Catalog.identify(c);
            }
        }
        return new Checked(name, shardDsn, identity, replicas);
    }

    static Result register(Context context, Checked shard) {
        return register(context, shard, Catalog.Start.NEW);
    }

    /** As {@link #register(Context, Checked)}, the shard starting at {@code start}. */
    static Result register(Context context, Checked shard, Catalog.Start start) {
        long id = context.catalog().addShard(shard.schema(), shard.dsn().withoutPassword(), shard.identity(),
                shard.replicas(), start);
        return new Result(id, shard.schema(), Catalog.stored(shard.dsn()),
                shard.replicas().stream().map(Catalog::stored).toList());
    }

    /** The --replica DSNs as stored: on the shard's schema, without password, each once. */
    private static List<Dsn> replicas(Context context, Dsn shardDsn, List<String> replicaTexts) {
        Set<Dsn> out = new LinkedHashSet<>();
        for (String text : replicaTexts) {
            Dsn replica = Dsn.parse(text);
            if (replica.hasPassword()) {
                context.warn("the password of replica " + replica.serverKey() + " is not stored: the catalog never"
                        + " holds passwords; replica passwords come from defaultsFile, as shard passwords do;"
                        + " also, a password on the command line is visible in the process list");
            }
            if (replica.database() != null && !replica.database().equals(shardDsn.database())) {
                throw ShardSchemaException.usage("replica " + replica.serverKey() + " names schema " + replica.database()
                        + ", but a replica holds the shard's own schema " + shardDsn.database()
                        + "; leave the schema out of --replica");
            }
            if (replica.serverKey().equals(shardDsn.serverKey())) {
                throw ShardSchemaException.usage("replica " + replica.serverKey() + " is the shard's own server");
            }
            out.add(replica.withDatabase(shardDsn.database()).withoutPassword());
        }
        return List.copyOf(out);
    }
}
