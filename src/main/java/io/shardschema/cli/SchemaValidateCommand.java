package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Shard;
import io.shardschema.catalog.ShardName;
import io.shardschema.schema.SchemaSnapshot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

@Command(name = "validate", mixinStandardHelpOptions = true, description = "Read every shard's schema and group the"
        + " shards at each version by fingerprint: the largest group is the reference, every other group is drift,"
        + " shown as a unified diff against the reference. Exit 3 when anything drifted or could not be read.")
final class SchemaValidateCommand implements Callable<Integer> {
    private final Context context;
    @Mixin
    JsonOption json;
    @Option(names = "--version", paramLabel = "V", description = "Only the shards at version V.")
    Integer version;
    @Option(names = "--parallel", paramLabel = "N", description = "Shards read at once (default: workers).")
    Integer parallel;
    /** One thread per shard read at once; more than this only crowds the machine (servers cap it further). */
    private static final int MAX_PARALLEL = 256;

    SchemaValidateCommand(Context context) {
        this.context = context;
    }

    /**
     * Shards whose schema is the same: their ids, and the same shards named ({@code named}); {@code diff} goes from
     * the reference to this group's schema.
     */
    record Group(String fingerprint, List<Long> shards, List<ShardName> named, String diff) {
    }

    /**
     * The shards at one version: the reference schema (the most common), one shard that has it (its id,
     * {@code referenceExample}, and named, {@code referenceExampleShard}), and the groups that differ from it.
     */
    record VersionReport(int version, int shards, String referenceFingerprint, int referenceShards,
                         long referenceExample, ShardName referenceExampleShard, String referenceSchema,
                         List<Group> outliers) {
    }

    record Unreadable(long shard, String schema, String server, String error) {
    }

    record Result(List<VersionReport> versions, List<Unreadable> unreadable, int driftedShards) implements Report {
        @Override
        public String text() {
            StringBuilder sb = new StringBuilder();
            for (VersionReport v : versions) {
                sb.append(String.format("version %d: %d of %d shards have the reference schema (fingerprint %s,"
                        + " e.g. %s)%n", v.version, v.referenceShards, v.shards,
                        v.referenceFingerprint.substring(0, 12), v.referenceExampleShard.text()));
                for (Group g : v.outliers) {
                    sb.append(String.format("  drift: %d shard(s), fingerprint %s: %s%n", g.shards.size(),
                            g.fingerprint.substring(0, 12),
                            String.join(", ", g.named.stream().map(ShardName::text).toList())));
                    sb.append("    ").append(g.diff.stripTrailing().replace("\n", "\n    ")).append('\n');
                }
            }
            for (Unreadable u : unreadable) {
                sb.append(String.format("unreadable: %s: %s%n", ShardName.text(u.shard, u.schema, u.server), u.error));
            }
            return sb.append(driftedShards == 0 && unreadable.isEmpty() ? "no drift"
                    : driftedShards + " shard(s) drifted, " + unreadable.size() + " unreadable").toString();
        }
    }

    @Override
    public Integer call() {
        if (parallel != null && (parallel < 1 || parallel > MAX_PARALLEL)) {
            throw ShardSchemaException.usage("--parallel must be in 1.." + MAX_PARALLEL);
        }
        List<Shard> shards = context.catalog().shards().stream()
                .filter(s -> version == null || s.version() == version).toList();
        if (shards.isEmpty()) {
            throw ShardSchemaException.usage(version == null ? "no shards are registered"
                    : "no shard is at version " + version);
        }
        List<FleetSchemas.Read<SchemaSnapshot>> reads = FleetSchemas.schemas(context.config(), context.catalog().dsn(),
                shards, null, parallel == null ? context.config().workers() : parallel);
        Map<Integer, List<FleetSchemas.Read<SchemaSnapshot>>> byVersion = new TreeMap<>();
        List<Unreadable> unreadable = new ArrayList<>();
        for (FleetSchemas.Read<SchemaSnapshot> r : reads) {
            if (r.error() != null) {
                unreadable.add(new Unreadable(r.shard().id(), r.shard().schemaName(), r.shard().serverKey(), r.error()));
            } else {
                byVersion.computeIfAbsent(r.shard().version(), v -> new ArrayList<>()).add(r);
            }
        }
        List<VersionReport> reports = new ArrayList<>();
        int drifted = 0;
        for (Map.Entry<Integer, List<FleetSchemas.Read<SchemaSnapshot>>> e : byVersion.entrySet()) {
            VersionReport report = compare(e.getKey(), e.getValue());
            drifted += report.outliers().stream().mapToInt(g -> g.shards().size()).sum();
            reports.add(report);
        }
        Result result = new Result(reports, unreadable, drifted);
        context.print(result, json);
        return drifted > 0 || !unreadable.isEmpty() ? ShardSchemaException.SOME_FAILED : 0;
    }

    private static VersionReport compare(int version, List<FleetSchemas.Read<SchemaSnapshot>> reads) {
        Map<String, List<FleetSchemas.Read<SchemaSnapshot>>> groups = new LinkedHashMap<>();
        reads.stream().sorted(Comparator.comparingLong(r -> r.shard().id()))
                .forEach(r -> groups.computeIfAbsent(r.value().fingerprint(), f -> new ArrayList<>()).add(r));
        // The most common schema is the reference; on a tie, the group of the lowest shard id (seen first).
        List<FleetSchemas.Read<SchemaSnapshot>> reference = groups.values().stream()
                .max(Comparator.comparingInt(List::size)).orElseThrow();
        SchemaSnapshot ref = reference.get(0).value();
        ShardName example = reference.get(0).shard().name();
        List<Group> outliers = new ArrayList<>();
        for (Map.Entry<String, List<FleetSchemas.Read<SchemaSnapshot>>> g : groups.entrySet()) {
            if (g.getValue() == reference) {
                continue;
            }
            List<Long> ids = g.getValue().stream().map(r -> r.shard().id()).toList();
            List<ShardName> named = g.getValue().stream().map(r -> r.shard().name()).toList();
            String diff = ref.diff(g.getValue().get(0).value(), "reference, " + example.text(),
                    named.get(0).text() + (ids.size() > 1 ? " and " + (ids.size() - 1) + " more" : ""));
            outliers.add(new Group(g.getKey(), ids, named, diff));
        }
        return new VersionReport(version, reads.size(), ref.fingerprint(), reference.size(), example.id(), example,
                ref.text(), outliers);
    }
}
