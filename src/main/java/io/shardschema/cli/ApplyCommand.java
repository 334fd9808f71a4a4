package io.shardschema.cli;

import io.shardschema.Printable;
import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Catalog;
import io.shardschema.catalog.CatalogLayout;
import io.shardschema.catalog.Shard;
import io.shardschema.catalog.ShardName;
import io.shardschema.catalog.Version;
import io.shardschema.change.ChangeStatement;
import io.shardschema.config.Config;
import io.shardschema.config.FleetFile;
import io.shardschema.schema.SchemaSnapshot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;

@Command(name = "apply", mixinStandardHelpOptions = true, description = "Bring the catalog to the desired state FILE"
        + " declares (YAML: shards, discover rules, the ordered versions). Adds what is missing, in order, with the"
        + " checks of `shard add`, `shard discover` and `version add`; a version in the catalog that differs from its"
        + " declaration is refused with the diff (exit 4), nothing written. A second apply changes nothing.")
final class ApplyCommand implements Callable<Integer> {
    private final Context context;
    @Mixin
    JsonOption json;
    @Parameters(paramLabel = "FILE", description = "The desired-state YAML file.")
    Path file;
    @Option(names = "--check", description = "Print the plan (what would be added, removed, rolled out) and write nothing.")
    boolean check;
    @Option(names = "--run", description = "Then roll out (as `run`) and wait until no task is left.")
    boolean run;
    @Option(names = "--workers", description = "Worker pool size for --run (default: the config's workers).")
    Integer workers;

    ApplyCommand(Context context) {
        this.context = context;
    }

    /** A shard by id (null while only planned) and schema@server. */
    record ShardItem(Long id, String schema, String server) {
        /** As every report names a shard; one only planned has no id yet. */
        String label() {
            return id == null ? "shard " + Printable.escape(schema) + "@" + Printable.escape(server)
                    : ShardName.text(id, schema, server);
        }
    }

    record VersionItem(int version, String table, String type, String statement) {
    }

    record Shards(List<ShardItem> added, List<ShardItem> removed, int unchanged) {
    }

    record Versions(List<VersionItem> added, int unchanged) {
    }

    /**
     * {@code behind}: shards a runner would still move to version {@code latest} before any --run (failed shards
     * and shards waiting at a gate are not); {@code ran}, {@code applied}: what --run did; {@code failed}: shards
     * failed in the end.
     */
    record Rollout(int latest, int behind, boolean ran, int applied, int failed) {
    }

    record Result(String file, boolean check, boolean changed, Shards shards, Versions versions, Rollout rollout,
                  String summary, List<String> notes) implements Report {
        @Override
        public String text() {
            StringBuilder sb = new StringBuilder(summary);
            String verb = check ? "would add" : "added";
            shards.added.forEach(s -> sb.append("\n").append(verb).append(" ").append(s.label()));
            shards.removed.forEach(s -> sb.append("\n").append(check ? "would remove" : "removed").append(" ")
                    .append(s.label()));
            versions.added.forEach(v -> sb.append("\n").append(verb).append(" version ").append(v.version)
                    .append(" (").append(v.type).append("): ").append(Printable.escape(v.statement)));
            notes.forEach(n -> sb.append("\nnote: ").append(n));
            return sb.toString();
        }
    }

    /** A declared shard: its schema on a server, as spelled and as the server identifies itself. */
    private record Declared(String schema, String serverKey, String identity) {
    }

    @Override
    public Integer call() throws SQLException {
        if (workers != null && (workers < 1 || workers > Config.MAX_WORKERS)) {
            throw ShardSchemaException.usage("--workers must be in 1.." + Config.MAX_WORKERS);
        }
        if (workers != null) {
            context.useWorkers(workers);
        }
        FleetFile fleet = FleetFile.read(file);
        String fileName = file.toString();
        List<String> notes = new ArrayList<>();
        boolean catalogExists;
        boolean catalogCreated = false;
        if (check) {
            catalogExists = CatalogLayout.exists(context.catalogDsn());
            if (!catalogExists) {
                notes.add("the catalog does not exist yet: apply creates it; versions are checked and preflighted"
                        + " when applied");
            }
        } else {
            catalogCreated = !CatalogLayout.initialize(context.catalogDsn(), context.config().stallSeconds())
                    .steps().isEmpty();
            catalogExists = true;
        }
        Catalog catalog = catalogExists ? context.catalog() : null;
        List<Version> stored = catalog == null ? List.of() : catalog.versions();
        List<Shard> registered = catalog == null ? List.of() : catalog.shards();
        Map<Long, String> identities = catalog == null ? Map.of() : catalog.serverIdentities();

        // 1. Versions are history: every stored one must be declared, as stored.
        List<String> refusals = new ArrayList<>();
        for (int i = 0; i < Math.max(stored.size(), fleet.versions().size()); i++) {
            if (i >= fleet.versions().size()) {
                Version v = stored.get(i);
                refusals.add("version " + v.number() + " (" + Printable.escape(ChangeStatement.sql(v.tableName(),
                        v.command())) + ") is in the catalog but " + fileName + " does not declare it; versions are"
                        + " history: declare it as entry " + v.number() + " of versions");
            } else if (i < stored.size()) {
                FleetFile.VersionEntry entry = fleet.versions().get(i);
                Version want = atLine(fileName, entry, () -> VersionAddCommand.declared(context, request(entry)));
                String diff = SchemaSnapshot.diff(describe(stored.get(i), want.rollback() != null),
                        describe(want, want.rollback() != null), "catalog: version " + stored.get(i).number(),
                        fileName + " line " + entry.line());
                if (!diff.isEmpty()) {
                    refusals.add("version " + entry.number() + " differs from its declaration (versions are"
                            + " history: declare a new version instead of changing one):\n" + diff.stripTrailing());
                }
            }
        }

        // 2. Shards: the declared ones, each checked on its server; discover rules read their servers.
        List<ShardAddCommand.Checked> explicit = new ArrayList<>();
        List<Declared> declared = new ArrayList<>();
        for (FleetFile.ShardEntry e : fleet.shards()) {
            ShardAddCommand.Checked c = ShardAddCommand.check(context, e.schema(), e.dsn(), false, e.replicas());
            explicit.add(c);
            declared.add(new Declared(c.schema(), c.dsn().serverKey(), c.identity()));
        }
        List<ShardDiscoverCommand.Found> discovered = new ArrayList<>();
        for (FleetFile.DiscoverRule rule : fleet.discover()) {
            ShardDiscoverCommand.Found found = ShardDiscoverCommand.find(context, rule.dsn(), rule.like());
            discovered.add(found);
            found.refused().forEach(r -> notes.add("schema '" + r.schema() + "' on " + found.server().serverKey()
                    + " matches " + Printable.escape(rule.like()) + " but cannot be a shard: " + r.reason()));
            found.schemas().forEach(s -> declared.add(new Declared(s, found.server().serverKey(), found.identity())));
        }
        Map<String, List<Shard>> bySchema = new HashMap<>();
        registered.forEach(s -> bySchema.computeIfAbsent(s.schemaName(), k -> new ArrayList<>()).add(s));
        Set<Long> kept = new HashSet<>();
        Map<String, ShardItem> toAdd = new LinkedHashMap<>();
        for (Declared d : declared) {
            List<Shard> same = bySchema.getOrDefault(d.schema(), List.of()).stream()
                    .filter(s -> s.serverKey().equals(d.serverKey())
                            || (d.identity() != null && d.identity().equals(identities.get(s.id())))).toList();
            if (same.isEmpty()) {
                toAdd.putIfAbsent(d.schema() + "@" + d.serverKey(), new ShardItem(null, d.schema(), d.serverKey()));
            }
            same.forEach(s -> kept.add(s.id()));
        }
        List<Shard> toRemove = fleet.prune() ? registered.stream().filter(s -> !kept.contains(s.id())).toList() : List.of();
        for (Shard s : toRemove) {
            if (s.state().equals("running") || s.state().equals("waiting")) {
                refusals.add(item(s).label() + " is not declared and prune is on, but it is " + s.state()
                        + (s.state().equals("running") ? " (a runner works it)" : " at a gate of an online change")
                        + "; apply again once its task has ended (or `cancel` it)");
            }
        }
        if (!refusals.isEmpty()) {
            throw new ShardSchemaException(ShardSchemaException.REFUSED, String.join("\n", refusals)
                    + "\nnothing was written");
        }

        // 3. Write (or, with --check, only plan) shards first: a new version's preflight needs a shard.
        List<FleetFile.VersionEntry> newVersions = fleet.versions().subList(stored.size(), fleet.versions().size());
        List<VersionItem> versionsAdded = new ArrayList<>();
        Version previous = stored.isEmpty() ? null : stored.get(stored.size() - 1);
        List<ShardItem> shardsAdded;
        if (check) {
            shardsAdded = List.copyOf(toAdd.values());
            boolean canPreflight = catalog != null && !registered.isEmpty();
            if (!canPreflight && newVersions.stream().anyMatch(FleetFile.VersionEntry::preflight)) {
                notes.add("no shard is registered yet: the new versions are preflighted when applied");
            }
            for (FleetFile.VersionEntry e : newVersions) {
                VersionAddCommand.Request r = request(e);
                Version v;
                if (canPreflight) {
                    Version after = previous;
                    v = atLine(fileName, e, () -> VersionAddCommand.prepare(context, r, after)).version();
                } else {
                    v = atLine(fileName, e, () -> VersionAddCommand.declared(context, r, catalog != null));
                }
                previous = v.numbered(e.number());
                versionsAdded.add(versionItem(e.number(), v));
            }
        } else {
            for (ShardAddCommand.Checked c : explicit) {
                if (toAdd.containsKey(c.schema() + "@" + c.dsn().serverKey())) {
                    ShardAddCommand.register(context, c);
                }
            }
            for (ShardDiscoverCommand.Found found : discovered) {
                if (found.schemas().stream().anyMatch(s -> toAdd.containsKey(s + "@" + found.server().serverKey()))) {
                    ShardDiscoverCommand.register(context, found);
                }
            }
            for (Shard s : toRemove) {
                catalog.removeShard(s.id());
            }
            Map<String, Long> ids = new HashMap<>();
            catalog.shards().forEach(s -> ids.put(s.schemaName() + "@" + s.serverKey(), s.id()));
            shardsAdded = toAdd.entrySet().stream().map(e -> new ShardItem(ids.get(e.getKey()), e.getValue().schema(),
                    e.getValue().server())).toList();
            for (FleetFile.VersionEntry e : newVersions) {
                VersionAddCommand.Request r = request(e);
                Version after = previous;
                String written = describeWritten(shardsAdded.size(), toRemove.size(), versionsAdded);
                // The draft as registered is the next one's starting point: no need to read the versions back.
                Version added = atLine(fileName, e, written, () -> {
                    VersionAddCommand.Draft d = VersionAddCommand.prepare(context, r, after);
                    int number = VersionAddCommand.register(context, d).version();
                    notes.addAll(d.notes().stream().map(n -> "version " + number + ": " + n).toList());
                    return d.version().numbered(number);
                });
                previous = added;
                versionsAdded.add(versionItem(added.number(), added));
            }
        }

        // 4. The rollout.
        int latest = fleet.versions().size();
        Set<Long> removedIds = new HashSet<>();
        toRemove.forEach(s -> removedIds.add(s.id()));
        int behind = catalog == null ? 0 : (int) catalog.shardsBehind(latest).stream()
                .filter(id -> !removedIds.contains(id)).count();
        if (check && latest > 0) {
            behind += shardsAdded.size();
        }
        RunCommand.Result ran = null;
        if (run && !check && behind > 0) {
            ran = RunCommand.run(catalog, context.config(), context.config().workers(), false, !json.json);
        }
        int failed = ran != null ? ran.failedShards() : catalog == null ? 0 : catalog.failedShardIds().size();
        Rollout rollout = new Rollout(latest, behind, ran != null, ran == null ? 0 : (int) ran.summary().applied(),
                failed);
        List<ShardItem> removed = toRemove.stream().map(ApplyCommand::item).toList();
        boolean changed = catalogCreated || (check && catalog == null) || !shardsAdded.isEmpty()
                || !removed.isEmpty() || !versionsAdded.isEmpty()
                || (run && (check ? behind > 0 : ran != null && ran.summary().tasks() > 0));
        Result result = new Result(fileName, check, changed,
                new Shards(shardsAdded, removed, kept.size()),
                new Versions(versionsAdded, stored.size()), rollout, summary(changed, shardsAdded.size(),
                removed.size(), versionsAdded.size(), kept.size(), stored.size(), rollout), notes);
        context.print(result, json);
        if (ran != null && ran.summary().refused() > 0) {
            return ShardSchemaException.REFUSED;
        }
        // With --run, failed shards fail the apply even when nothing was left to run: a second apply is no greener.
        return run && !check && failed > 0 ? ShardSchemaException.SOME_FAILED : 0;
    }

    private String summary(boolean changed, int shardsAdded, int shardsRemoved, int versionsAdded, int shardsKept,
                           int versionsKept, Rollout r) {
        String state = r.latest() == 0 ? "" : r.behind() == 0 && r.failed() == 0
                ? "; every shard at version " + r.latest()
                : (r.behind() > 0 ? "; " + r.behind() + " shards behind version " + r.latest() : "")
                + (r.failed() > 0 ? "; " + r.failed() + " shards failed (see `status`, then `retry`)" : "");
        String rollout = r.ran() ? "; rolled out: " + r.applied() + " applied" : "";
        if (!changed) {
            return "nothing to change: " + shardsKept + " shards and " + versionsKept + " versions as declared" + state;
        }
        List<String> parts = new ArrayList<>();
        if (shardsAdded > 0) {
            parts.add(shardsAdded + (shardsAdded == 1 ? " shard" : " shards"));
        }
        if (versionsAdded > 0) {
            parts.add(versionsAdded + (versionsAdded == 1 ? " version" : " versions"));
        }
        String what = (parts.isEmpty() ? "" : (check ? "would add " : "added ") + String.join(" and ", parts))
                + (shardsRemoved > 0 ? (parts.isEmpty() ? "" : ", ") + (check ? "would remove " : "removed ")
                + shardsRemoved + " shards" : "");
        if (what.isEmpty()) {
            what = check && run && r.behind() > 0 ? "would roll out" : "catalog created";
        }
        return what + state + rollout;
    }

    private static ShardItem item(Shard s) {
        return new ShardItem(s.id(), s.schemaName(), s.serverKey());
    }

    private static VersionItem versionItem(int number, Version v) {
        return new VersionItem(number, v.tableName(), v.type(), ChangeStatement.sql(v.tableName(), v.command()));
    }

    private static String describeWritten(int shards, int removed, List<VersionItem> versions) {
        List<String> parts = new ArrayList<>();
        if (shards > 0) {
            parts.add("added " + shards + " shards");
        }
        if (removed > 0) {
            parts.add("removed " + removed + " shards");
        }
        if (!versions.isEmpty()) {
            parts.add("added versions " + versions.get(0).version() + ".." + versions.get(versions.size() - 1).version());
        }
        return String.join(", ", parts);
    }

    /** The request `version add` would be given for a declared version. */
    static VersionAddCommand.Request request(FleetFile.VersionEntry e) {
        List<String> options = new TreeMap<>(e.options()).entrySet().stream()
                .map(o -> o.getKey() + "=" + o.getValue()).toList();
        return new VersionAddCommand.Request(e.table(), e.command(), e.type(), options, e.autoApprove(),
                e.autoCutover(), e.finalInsert(), e.validate() == null ? null : e.validate().query(),
                e.validate() == null ? null : e.validate().expect(), e.rollback(), e.force(), null, !e.preflight());
    }

    /**
     * What makes a version: every field but how it was added (force, preflight), what the preflight derived, and
     * the gates' auto flags (`approve V` and `cutover V` set them in the catalog); the rollback only where the file
     * declares one.
     */
    static String describe(Version v, boolean withRollback) {
        StringBuilder sb = new StringBuilder();
        sb.append("table: ").append(Printable.escape(v.tableName())).append('\n');
        sb.append("type: ").append(v.type()).append('\n');
        sb.append("command: ").append(Printable.escape(v.command())).append('\n');
        if (v.hasValidation()) {
            sb.append("validate: ").append(Printable.escape(v.validationQuery())).append(" = ")
                    .append(Printable.escape(v.validationExpected())).append('\n');
        }
        new TreeMap<>(v.online().options()).forEach((k, val) -> sb.append("option: ").append(Printable.escape(k))
                .append('=').append(Printable.escape(val)).append('\n'));
        if (v.online().finalInsert() != null) {
            sb.append("finalInsert: ").append(Printable.escape(v.online().finalInsert())).append('\n');
        }
        if (withRollback) {
            sb.append("rollback: ").append(v.rollback() == null ? "(none)" : Printable.escape(v.rollback())).append('\n');
        }
        return sb.toString();
    }

    private interface Step<T> {
        T get();
    }

    private static <T> T atLine(String fileName, FleetFile.VersionEntry e, Step<T> step) {
        return atLine(fileName, e, "", step);
    }

    /** Runs a step for a declared version; its error names the file's line, and what this apply wrote before it. */
    private static <T> T atLine(String fileName, FleetFile.VersionEntry e, String written, Step<T> step) {
        try {
            return step.get();
        } catch (ShardSchemaException ex) {
            String message = ex.getMessage();
            if (!written.isEmpty()) {
                message = message.replaceFirst("\nnothing was written$", "") + "\nthis apply " + written
                        + " before it; nothing else was written (apply again once it is fixed)";
            }
            throw new ShardSchemaException(ex.exitCode(), fileName + " line " + e.line() + " (version " + e.number()
                    + "): " + message, ex);
        }
    }
}
