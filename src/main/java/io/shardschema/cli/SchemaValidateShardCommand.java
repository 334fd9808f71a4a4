package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Shard;
import io.shardschema.catalog.ShardName;
import io.shardschema.config.DataSources;
import io.shardschema.config.Dsn;
import io.shardschema.runner.ShardConnections;
import io.shardschema.schema.SchemaSnapshot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

@Command(name = "validate-shard", mixinStandardHelpOptions = true, description = "Compare the schema of a shard on"
        + " its server (the primary) with the same schema on each of its replicas (`shard add --replica`): the"
        + " fingerprints, and a unified diff primary -> replica where they differ. Exit 3 when a replica differs or"
        + " cannot be read.")
final class SchemaValidateShardCommand implements Callable<Integer> {
    private static final String SAME = "same";
    private static final String DIFFERENT = "different";
    private static final String UNREADABLE = "unreadable";

    private final Context context;
    @Mixin
    JsonOption json;
    @Parameters(paramLabel = "ID", description = "The shard.")
    long id;

    SchemaValidateShardCommand(Context context) {
        this.context = context;
    }

    /** One replica: {@code state} is same, different or unreadable; {@code diff} goes from the primary to it. */
    record Replica(String dsn, String state, String fingerprint, String diff, String error) {
    }

    record Result(long shard, String schema, String server, String primary, String primaryFingerprint,
                  List<Replica> replicas) implements Report {
        @Override
        public String text() {
            StringBuilder sb = new StringBuilder(String.format("%s on %s: fingerprint %s%n",
                    ShardName.text(shard, schema, server), primary, primaryFingerprint.substring(0, 12)));
            for (Replica r : replicas) {
                sb.append("replica ").append(r.dsn).append(": ").append(r.state);
                if (r.error != null) {
                    sb.append(": ").append(r.error).append('\n');
                } else {
                    sb.append(" (fingerprint ").append(r.fingerprint, 0, 12).append(")\n");
                    if (!r.diff.isEmpty()) {
                        sb.append("    ").append(r.diff.stripTrailing().replace("\n", "\n    ")).append('\n');
                    }
                }
            }
            long same = replicas.stream().filter(r -> r.state.equals(SAME)).count();
            return sb.append(same).append(" of ").append(replicas.size()).append(" replicas match the primary").toString();
        }
    }

    @Override
    public Integer call() {
        Shard shard = context.catalog().requireShard(id);
        List<String> replicaDsns = context.catalog().replicas(id);
        if (replicaDsns.isEmpty()) {
            throw ShardSchemaException.usage("shard " + id + " has no replicas; replicas are registered with their"
                    + " shard: `shardschema shard add --schema S --dsn DSN --replica REPLICA_DSN ...`");
        }
        // Replicas are reached exactly as the shard is: same overrides, same credentials.
        ExecutorService pool = Executors.newFixedThreadPool(1 + replicaDsns.size());
        try (ShardConnections connections = new ShardConnections(context.config(), context.catalog().dsn(),
                context.config().perServerConcurrency())) {
            CompletableFuture<Read> primaryRead = read(pool, connections, shard.dsn(), shard.schemaName());
            List<CompletableFuture<Read>> replicaReads = replicaDsns.stream()
                    .map(dsn -> read(pool, connections, dsn, shard.schemaName())).toList();
            Read primary = primaryRead.join();
            if (primary.error() != null) {
                throw ShardSchemaException.error(shard.name().text() + " on its primary "
                        + Dsn.mask(shard.dsn()) + ": " + primary.error());
            }
            List<Replica> replicas = new ArrayList<>();
            for (int i = 0; i < replicaDsns.size(); i++) {
                replicas.add(compare(primary.schema(), Dsn.mask(replicaDsns.get(i)), replicaReads.get(i).join()));
            }
            context.print(new Result(id, shard.schemaName(), shard.serverKey(), Dsn.mask(shard.dsn()),
                    primary.schema().fingerprint(),
                    replicas), json);
            return replicas.stream().allMatch(r -> r.state().equals(SAME)) ? 0 : ShardSchemaException.SOME_FAILED;
        } finally {
            pool.shutdownNow();
        }
    }

    /** A schema read from one server, or why it could not be read. */
    private record Read(SchemaSnapshot schema, String error) {
    }

    private static CompletableFuture<Read> read(ExecutorService pool, ShardConnections connections, String dsn,
                                                String schemaName) {
        return CompletableFuture.supplyAsync(() -> {
            try (Connection c = connections.connect(dsn, schemaName)) {
                return new Read(SchemaSnapshot.read(c, c.getCatalog(), null), null);
            } catch (SQLException | RuntimeException e) {
                // Reported per replica: one unreachable replica must not hide what the others show.
                return new Read(null, DataSources.rootMessage(e));
            }
        }, pool);
    }

    private static Replica compare(SchemaSnapshot primary, String dsn, Read read) {
        if (read.error() != null) {
            return new Replica(dsn, UNREADABLE, null, null, read.error());
        }
        String diff = primary.diff(read.schema(), "primary", "replica " + dsn);
        return new Replica(dsn, diff.isEmpty() ? SAME : DIFFERENT, read.schema().fingerprint(), diff, null);
    }
}
