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
import io.shardschema.config.Dsn;
import io.shardschema.config.FleetFile;
import io.shardschema.schema.SchemaSnapshot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;
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
            return id == null ? ShardName.unregistered(schema, server) : ShardName.text(id, schema, server);
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

    /**
     * A shard the file declares: its schema on a server as spelled and as the server identifies itself, the line
     * that declares it, and what registers it (the checked entry, or what a discover rule found).
     */
    private record Declared(String schema, String serverKey, String identity, int line,
                            ShardAddCommand.Checked entry, ShardDiscoverCommand.Found found) {
        /** On the same server: the same spelling of it, or the same identity. */
        boolean sameServer(String otherServerKey, String otherIdentity) {
            return serverKey.equals(otherServerKey) || identity != null && identity.equals(otherIdentity);
        }

        ShardItem item() {
            return new ShardItem(null, schema, serverKey);
        }

        /** The server as apply connects to it (with the file's credentials). */
        Dsn server() {
            return entry != null ? entry.dsn().withDatabase(null) : found.server();
        }
    }

    /** A declared shard to register, and the version it starts at. */
    private record ToAdd(Declared shard, Catalog.Start start) {
    }

    /** At most this many shards are named in one refusal; the rest are counted. */
    private static final int NAMED = 20;

    @Override
    public Integer call() throws SQLException {
        if (workers != null && (workers < 1 || workers > Config.MAX_WORKERS)) {
            throw ShardSchemaException.usage("--workers must be in 1.." + Config.MAX_WORKERS);
        }
        if (workers != null) {
            context.useWorkers(workers);
        }
        FleetFile fleet = FleetFile.read(file);
        String fileName = Printable.escape(file.toString());
        List<String> notes = new ArrayList<>();
        // Planned and checked in full before the first write, so that a refusal leaves the catalog as it was. Only
        // an old catalog layout is upgraded first (as `init` does; nothing can be read without it), and a missing
        // catalog is created before the new versions' preflights, which need it.
        boolean catalogExists = CatalogLayout.exists(context.catalogDsn());
        boolean upgraded = catalogExists && !check && !CatalogLayout.initialize(context.catalogDsn(),
                context.config().stallSeconds()).steps().isEmpty();
        if (upgraded) {
            notes.add("the catalog's layout was upgraded first, as `init` does");
        }
        Catalog catalog = catalogExists ? context.catalog() : null;
        List<Version> stored = catalog == null ? List.of() : catalog.versions();
        List<Shard> registered = catalog == null ? List.of() : catalog.shards();
        Map<Long, String> identities = catalog == null ? Map.of() : catalog.serverIdentities();
        List<String> refusals = new ArrayList<>();
        compareHistory(fleet, stored, fileName, refusals);

        // Shards: each declared one checked on its server, matched with what the catalog holds.
        List<Declared> declared = declaredShards(fleet, fileName, notes, refusals);
        Map<String, List<Shard>> registeredByName = new HashMap<>();
        registered.forEach(s -> registeredByName.computeIfAbsent(nameKey(s.schemaName()), k -> new ArrayList<>()).add(s));
        Set<Long> kept = new HashSet<>();
        List<Declared> notRegistered = new ArrayList<>();
        for (Declared d : declared) {
            List<Shard> same = registeredByName.getOrDefault(nameKey(d.schema()), List.of()).stream()
                    .filter(s -> d.sameServer(s.serverKey(), identities.get(s.id()))).toList();
            for (Shard s : same) {
                if (!s.schemaName().equals(d.schema())) {
                    refusals.add(fileName + " line " + d.line() + ": " + d.item().label() + " and the registered "
                            + item(s).label() + " differ only in case or accents, which the catalog does not tell"
                            + " apart; it cannot hold both");
                }
                kept.add(s.id());
                String identity = identities.get(s.id());
                if (identity != null && d.identity() != null && !identity.equals(d.identity())) {
                    notes.add(item(s).label() + ": its server now identifies itself otherwise than when it was"
                            + " registered (a replaced server?); `schema validate` compares its schema");
                }
                if (d.entry() != null) {
                    notes.addAll(changesIgnored(d, s, catalog));
                }
            }
            if (same.isEmpty()) {
                notRegistered.add(d);
            }
        }
        List<ToAdd> toAdd = startingPoints(notRegistered, stored, fileName, notes, refusals);
        if (!toAdd.isEmpty() && catalog != null && catalog.pinnedShards() > 0) {
            refusals.add("the fleet is pinned by `down` (" + catalog.pinnedShards() + " shards): a shard added now"
                    + " would go past the pin; `up` first, then apply");
        }
        List<Shard> toRemove = fleet.prune() ? registered.stream().filter(s -> !kept.contains(s.id())).toList() : List.of();
        for (Shard s : toRemove) {
            if (s.state().equals("running") || s.state().equals("waiting")) {
                refusals.add(item(s).label() + " is not declared and prune is on, but it is " + s.state()
                        + (s.state().equals("running") ? " (a runner works it)" : " at a gate of an online change")
                        + "; apply again once its task has ended (or `cancel` it)");
            }
        }

        // The new versions' preflights run on a registered shard's server, else on a declared one's that is where
        // the last stored version left the fleet.
        List<FleetFile.VersionEntry> newVersions = fleet.versions().subList(Math.min(stored.size(),
                fleet.versions().size()), fleet.versions().size());
        Version last = stored.isEmpty() ? null : stored.get(stored.size() - 1);
        int lastNumber = last == null ? 0 : last.number();
        VersionPreflight.Host host = registered.isEmpty() ? toAdd.stream()
                .filter(a -> last == null || last.expected().schemaAfter() != null || a.start().version() == lastNumber)
                .findFirst().map(a -> new VersionPreflight.Host(null, a.shard().schema(),
                        Catalog.stored(a.shard().server()), a.shard().serverKey())).orElse(null) : null;
        checkPreflightsCanRun(newVersions, !registered.isEmpty() || host != null, fileName, refusals);
        if (!refusals.isEmpty()) {
            throw new ShardSchemaException(ShardSchemaException.REFUSED, String.join("\n", refusals)
                    + "\nnothing was written");
        }
        List<String> written = new ArrayList<>();
        if (!check && !catalogExists) {
            CatalogLayout.initialize(context.catalogDsn(), context.config().stallSeconds());
            catalog = context.catalog();
            written.add("created the catalog");
        }
        boolean preflight = catalog != null;
        if (check && !preflight && !newVersions.isEmpty()) {
            notes.add("the catalog does not exist yet: apply creates it; the new versions are checked and"
                    + " preflighted when applied");
        }
        List<VersionAddCommand.Draft> drafts = new ArrayList<>();
        List<VersionItem> versionsAdded = new ArrayList<>();
        Version previous = last;
        int number = lastNumber;
        for (FleetFile.VersionEntry e : newVersions) {
            VersionAddCommand.Request r = request(e);
            Version after = previous;
            Version v;
            if (preflight) {
                VersionAddCommand.Draft d = atLine(fileName, e, written,
                        () -> VersionAddCommand.prepare(context, r, after, host));
                drafts.add(d);
                v = d.version();
            } else {
                v = atLine(fileName, e, written, () -> VersionAddCommand.declared(context, r, false));
            }
            previous = v.numbered(++number);
            versionsAdded.add(versionItem(number, v));
        }

        // Write: prune, shards, then the versions (numbered as the catalog gives them, each chained to the last).
        List<ShardItem> shardsAdded = toAdd.stream().map(a -> a.shard().item()).toList();
        if (!check) {
            Catalog writing = catalog;
            for (Shard s : toRemove) {
                atStep("removing " + item(s).label(), written, () -> {
                    writing.removeShard(s.id());
                    return null;
                });
                written.add("removed " + item(s).label());
            }
            shardsAdded = register(toAdd, catalog, written);
            versionsAdded.clear();
            number = lastNumber;
            for (int i = 0; i < drafts.size(); i++) {
                VersionAddCommand.Draft d = drafts.get(i);
                Integer chained = number;
                int n = atLine(fileName, newVersions.get(i), written, () -> VersionAddCommand.register(context,
                        new VersionAddCommand.Draft(d.version(), chained, d.rollbackDerived(), d.notes())).version());
                d.notes().forEach(note -> notes.add("version " + n + ": " + note));
                versionsAdded.add(versionItem(n, d.version()));
                written.add("added version " + n);
                number = n;
            }
        }
        toAdd.stream().filter(a -> a.start().version() > 0).forEach(a -> notes.add(a.shard().item().label()
                + (check ? " would start" : " starts") + " at version " + a.start().version()
                + ": its schema is the one expected there"));

        // The rollout.
        int latest = number;
        Set<Long> removedIds = new HashSet<>();
        toRemove.forEach(s -> removedIds.add(s.id()));
        int behind = catalog == null ? 0 : (int) catalog.shardsBehind(latest).stream()
                .filter(id -> !removedIds.contains(id)).count();
        if (check && latest > 0) {
            behind += (int) toAdd.stream().filter(a -> a.start().version() < latest).count();
        }
        RunCommand.Result ran = null;
        if (run && !check && behind > 0) {
            ran = RunCommand.run(catalog, context.config(), context.config().workers(), false, !json.json);
        }
        int failed = ran != null ? ran.failedShards() : catalog == null ? 0 : (int) catalog.failedShardIds().stream()
                .filter(id -> !removedIds.contains(id)).count();
        Rollout rollout = new Rollout(latest, behind, ran != null, ran == null ? 0 : (int) ran.summary().applied(),
                failed);
        List<ShardItem> removed = toRemove.stream().map(ApplyCommand::item).toList();
        boolean changed = upgraded || !written.isEmpty() || (check && catalog == null)
                || !shardsAdded.isEmpty() || !removed.isEmpty() || !versionsAdded.isEmpty()
                || (run && (check ? behind > 0 : ran != null && ran.summary().tasks() > 0));
        Result result = new Result(file.toString(), check, changed,
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

    /** Versions are history: every stored one must be declared, as stored (normalised and compared, not re-checked). */
    private void compareHistory(FleetFile fleet, List<Version> stored, String fileName, List<String> refusals) {
        for (int i = 0; i < Math.max(stored.size(), fleet.versions().size()); i++) {
            if (i >= fleet.versions().size()) {
                Version v = stored.get(i);
                refusals.add("version " + v.number() + " (" + Printable.escape(ChangeStatement.sql(v.tableName(),
                        v.command())) + ") is in the catalog but " + fileName + " does not declare it; versions are"
                        + " history: declare it as entry " + (i + 1) + " of versions");
            } else if (i < stored.size()) {
                FleetFile.VersionEntry entry = fleet.versions().get(i);
                Version want = atLine(fileName, entry, List.of(),
                        () -> VersionAddCommand.declared(context, request(entry), false));
                String diff = SchemaSnapshot.diff(describe(stored.get(i), want.rollback() != null),
                        describe(want, want.rollback() != null), "catalog: version " + stored.get(i).number(),
                        fileName + " line " + entry.line());
                if (!diff.isEmpty()) {
                    refusals.add("version " + stored.get(i).number() + " differs from its declaration (versions are"
                            + " history: declare a new version instead of changing one):\n" + diff.stripTrailing());
                }
            }
        }
    }

    /**
     * The shards the file declares, each checked on its server. One shard declared by two entries is refused,
     * naming both lines; one that an entry and a discover rule (or two rules) both match counts once, as the first
     * declared it; two names the catalog cannot tell apart (case, accents) on one server are refused.
     */
    private List<Declared> declaredShards(FleetFile fleet, String fileName, List<String> notes, List<String> refusals)
            throws SQLException {
        Map<String, List<Declared>> byName = new LinkedHashMap<>();
        List<Declared> declared = new ArrayList<>();
        java.util.function.Consumer<Declared> declare = d -> {
            List<Declared> same = byName.computeIfAbsent(nameKey(d.schema()), k -> new ArrayList<>());
            for (Declared earlier : same) {
                if (!earlier.sameServer(d.serverKey(), d.identity())) {
                    continue;
                }
                if (!earlier.schema().equals(d.schema())) {
                    refusals.add(fileName + " lines " + earlier.line() + " and " + d.line() + ": "
                            + earlier.item().label() + " and " + d.item().label() + " differ only in case or accents,"
                            + " which the catalog does not tell apart; it cannot hold both");
                } else if (earlier.entry() != null && d.entry() != null) {
                    refusals.add(fileName + " lines " + earlier.line() + " and " + d.line() + " declare the same"
                            + " shard, " + d.item().label() + (earlier.serverKey().equals(d.serverKey()) ? ""
                            : " (" + Printable.escape(earlier.serverKey()) + " and " + Printable.escape(d.serverKey())
                            + " are one server)") + "; declare it once");
                }
                return;
            }
            same.add(d);
            declared.add(d);
        };
        for (FleetFile.ShardEntry e : fleet.shards()) {
            ShardAddCommand.Checked c = ShardAddCommand.check(context, e.schema(), e.dsn(), false, e.replicas());
            declare.accept(new Declared(c.schema(), c.dsn().serverKey(), c.identity(), e.line(), c, null));
        }
        for (FleetFile.DiscoverRule rule : fleet.discover()) {
            ShardDiscoverCommand.Found found = ShardDiscoverCommand.find(context, rule.dsn(), rule.like());
            String server = Printable.escape(found.server().serverKey());
            found.refused().forEach(r -> notes.add("schema '" + r.schema() + "' on " + server + " matches "
                    + Printable.escape(rule.like()) + " but cannot be a shard: " + r.reason()));
            if (found.schemas().isEmpty() && fleet.prune()) {
                // A revoked grant or a server moved: with prune, every shard it found before would go.
                refusals.add(fileName + " line " + rule.line() + ": discover rule " + Printable.escape(rule.like())
                        + " on " + server + " matches no schema, and prune is on; if the server really has none,"
                        + " remove the rule");
            }
            found.schemas().forEach(s -> declare.accept(new Declared(s, found.server().serverKey(), found.identity(),
                    rule.line(), null, found)));
        }
        return declared;
    }

    /**
     * How the catalog compares schema names: without case or accents (its columns' collation), so that two names
     * it would take for one are found before a write fails on its unique key.
     */
    private static String nameKey(String schema) {
        return Normalizer.normalize(schema, Normalizer.Form.NFD).replaceAll("\\p{M}", "").toLowerCase(Locale.ROOT);
    }

    /** A new version whose preflight cannot run (no shard to host it, or no known schema to start from) is refused. */
    private static void checkPreflightsCanRun(List<FleetFile.VersionEntry> newVersions, boolean hostAvailable,
                                              String fileName, List<String> refusals) {
        FleetFile.VersionEntry unpreflighted = null;
        for (FleetFile.VersionEntry e : newVersions) {
            if (!e.preflight()) {
                unpreflighted = e;
            } else if (!hostAvailable) {
                refusals.add(fileName + " line " + e.line() + " (version " + e.number() + "): its preflight runs on a"
                        + " shard's server, and no shard is registered or declared where the versions before it"
                        + " leave the fleet; declare one, or set preflight: false");
                return;
            } else if (unpreflighted != null) {
                refusals.add(fileName + " line " + e.line() + " (version " + e.number() + "): its preflight would"
                        + " start from version " + unpreflighted.number() + ", which this apply adds without a"
                        + " preflight (so with no expected schema); apply the file up to version "
                        + unpreflighted.number() + " first, or set preflight: false here too");
                return;
            }
        }
    }

    /** What the file says of a registered shard that apply does not change: said, so that it is not a surprise. */
    private static List<String> changesIgnored(Declared d, Shard s, Catalog catalog) {
        List<String> out = new ArrayList<>();
        String declaredDsn = Catalog.stored(d.server());
        if (!declaredDsn.equals(s.dsn())) {
            out.add(item(s).label() + " is registered with DSN " + Printable.escape(Dsn.mask(s.dsn())) + ", line "
                    + d.line() + " declares " + Printable.escape(Dsn.mask(declaredDsn))
                    + "; apply does not change a registered shard's DSN");
        }
        Set<String> want = new TreeSet<>(d.entry().replicas().stream().map(Catalog::stored).toList());
        Set<String> have = new TreeSet<>(catalog.replicas(s.id()));
        if (!want.equals(have)) {
            out.add(item(s).label() + " has replicas " + Printable.escape(have.toString()) + " in the catalog, line "
                    + d.line() + " declares " + Printable.escape(want.toString()) + "; apply does not change a"
                    + " registered shard's replicas");
        }
        return out;
    }

    /**
     * Where each shard to add starts (see {@link StartingVersion}), read on its server (one connection per
     * server); those that cannot start anywhere are refused, the first {@link #NAMED} named.
     */
    private List<ToAdd> startingPoints(List<Declared> shards, List<Version> stored, String fileName, List<String> notes,
                                       List<String> refusals) throws SQLException {
        if (stored.isEmpty()) {
            return shards.stream().map(d -> new ToAdd(d, Catalog.Start.NEW)).toList();
        }
        StartingVersion starts = new StartingVersion(stored);
        Map<Dsn, List<Declared>> byServer = new LinkedHashMap<>();
        shards.forEach(d -> byServer.computeIfAbsent(d.server(), k -> new ArrayList<>()).add(d));
        Map<Declared, ToAdd> decided = new HashMap<>();
        List<String> refused = new ArrayList<>();
        for (Map.Entry<Dsn, List<Declared>> server : byServer.entrySet()) {
            try (Connection c = ShardTarget.connect(context, server.getKey())) {
                for (Declared d : server.getValue()) {
                    StartingVersion.Decision decision = starts.of(c, d.schema());
                    String where = fileName + " line " + d.line() + ": " + d.item().label() + ": ";
                    if (decision.start() == null) {
                        refused.add(where + decision.refusal());
                    } else {
                        decided.put(d, new ToAdd(d, decision.start()));
                    }
                    if (decision.note() != null) {
                        notes.add(where + decision.note());
                    }
                }
            }
        }
        if (!refused.isEmpty()) {
            refusals.add(String.join("\n", refused.subList(0, Math.min(NAMED, refused.size())))
                    + (refused.size() > NAMED ? "\nand " + (refused.size() - NAMED) + " more shards like these" : ""));
        }
        return shards.stream().filter(decided::containsKey).map(decided::get).toList();
    }

    /**
     * Registers the shards to add: an entry as `shard add` does, a discovered shard that starts at a version in a
     * transaction of its own (so that it starts there before any runner can claim it), the other discovered ones
     * in one batch per rule as `shard discover` does; names them with the ids the catalog gave.
     */
    private List<ShardItem> register(List<ToAdd> toAdd, Catalog catalog, List<String> written) {
        Map<ShardDiscoverCommand.Found, List<String>> batches = new LinkedHashMap<>();
        for (ToAdd a : toAdd) {
            Declared d = a.shard();
            if (d.entry() == null && a.start().version() == 0) {
                batches.computeIfAbsent(d.found(), k -> new ArrayList<>()).add(d.schema());
                continue;
            }
            atStep("adding " + d.item().label(), written, () -> d.entry() != null
                    ? ShardAddCommand.register(context, d.entry(), a.start()).shardId()
                    : catalog.addShard(d.schema(), d.found().server().withoutPassword().withDatabase(d.schema()),
                    d.identity(), List.of(), a.start()));
        }
        batches.forEach((found, schemas) -> atStep("adding the shards of " + Printable.escape(found.server()
                .serverKey()), written, () -> ShardDiscoverCommand.register(context,
                new ShardDiscoverCommand.Found(found.server(), found.identity(), schemas, List.of()))));
        Map<String, Long> ids = new HashMap<>();
        if (!toAdd.isEmpty()) {
            catalog.shards().forEach(s -> ids.put(s.schemaName() + "@" + s.serverKey(), s.id()));
            written.add("added " + toAdd.size() + " shards");
        }
        return toAdd.stream().map(a -> new ShardItem(ids.get(a.shard().schema() + "@" + a.shard().serverKey()),
                a.shard().schema(), a.shard().serverKey())).toList();
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

    /** Runs a step for a declared version; its error names the file's line, and what this apply wrote before it. */
    private static <T> T atLine(String fileName, FleetFile.VersionEntry e, List<String> written, Supplier<T> step) {
        return atStep(fileName + " line " + e.line() + " (version " + e.number() + ")", written, step);
    }

    /** Runs a step; its error says where ({@code what}), and what this apply wrote before it. */
    private static <T> T atStep(String what, List<String> written, Supplier<T> step) {
        try {
            return step.get();
        } catch (ShardSchemaException ex) {
            String message = ex.getMessage();
            if (!written.isEmpty()) {
                message = message.replaceFirst("\nnothing was written$", "") + "\nthis apply "
                        + String.join(", ", written) + " before it; nothing else was written (apply again once it is"
                        + " fixed)";
            }
            throw new ShardSchemaException(ex.exitCode(), what + ": " + message, ex);
        }
    }
}
