package io.shardschema.cli;

import io.shardschema.Printable;
import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Catalog;
import io.shardschema.catalog.SchemaNames;
import io.shardschema.config.Dsn;
import io.shardschema.schema.Preflight;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;

@Command(name = "discover", mixinStandardHelpOptions = true, description = "Register every schema on a server whose name matches a SQL LIKE pattern"
        + " (one query, one batch: thousands in seconds). Already registered schemas are skipped; names that cannot be"
        + " a shard's (control characters, ...) are refused and listed, and the command exits 3.")
final class ShardDiscoverCommand implements Callable<Integer> {
    private static final Set<String> SYSTEM = Set.of("mysql", "information_schema", "performance_schema", "sys");
    private final Context context;
    @Mixin
    JsonOption json;
    @Option(names = "--dsn", required = true, description = "The server, e.g. user@tcp(host:3306)/")
    String dsnText;
    @Option(names = "--like", required = true, description = "SQL LIKE pattern, e.g. 'app\\_%'.")
    String like;

    ShardDiscoverCommand(Context context) {
        this.context = context;
    }

    /** A schema that was not registered, its name escaped for printing, and why. */
    record Refused(String schema, String reason) {
    }

    record Result(String server, int matched, int registered, int alreadyRegistered, List<Refused> refused)
            implements Report {
        @Override
        public String text() {
            StringBuilder sb = new StringBuilder("registered " + registered + " shards on " + server + " (" + matched
                    + " schemas matched, " + alreadyRegistered + " already registered, " + refused.size() + " refused)");
            refused.forEach(r -> sb.append("\nrefused schema '").append(r.schema()).append("': ").append(r.reason()));
            return sb.toString();
        }
    }

    /** What a discovery found on a server, before registering: the schemas to register and the names refused. */
    record Found(Dsn server, String identity, List<String> schemas, List<Refused> refused) {
    }

    @Override
    public Integer call() throws SQLException {
        Found found = find(context, dsnText, like);
        context.print(register(context, found), json);
        return found.refused().isEmpty() ? 0 : ShardSchemaException.SOME_FAILED;
    }

    /**
     * The schemas on the server matching {@code like} that may be shards (ShardSchema's own and the system's left
     * out), and the names that cannot be; writes nothing.
     */
    static Found find(Context context, String dsnText, String like) throws SQLException {
        Dsn dsn = ShardTarget.parse(context, dsnText);
        Dsn catalog = context.catalogDsn();
        List<String> schemas = new ArrayList<>();
        List<Refused> refused = new ArrayList<>();
        String identity;
        String catalogIdentity = null;
        try (Connection c = ShardTarget.connect(context, dsn);
             PreparedStatement ps = c.prepareStatement("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA"
                     + " WHERE SCHEMA_NAME LIKE ? ORDER BY SCHEMA_NAME")) {
            identity = Catalog.identify(c);
            ps.setString(1, like);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String name = rs.getString(1);
                    // ShardSchema's own schemas are never shards: the catalog (on this server however it is
                    // spelled; its identity asked once, only when a schema of its name matches), the
                    // pending-drops database, and live preflights' scratch schemas.
                    boolean isCatalog = false;
                    if (name.equals(catalog.database())) {
                        if (catalogIdentity == null && !dsn.serverKey().equals(catalog.serverKey())) {
                            catalogIdentity = context.catalog().serverIdentity();
                        }
                        isCatalog = dsn.serverKey().equals(catalog.serverKey()) || identity.equals(catalogIdentity);
                    }
                    if (SYSTEM.contains(name.toLowerCase()) || isCatalog
                            || name.equals(context.config().pendingDropsDb())
                            || name.startsWith(Preflight.SCRATCH_PREFIX)) {
                        continue;
                    }
                    Optional<String> problem = SchemaNames.problem(name);
                    if (problem.isPresent()) {
                        refused.add(new Refused(Printable.escape(name), problem.get()));
                    } else {
                        schemas.add(name);
                    }
                }
            }
        }
        return new Found(dsn, identity, schemas, refused);
    }

    /** Registers what {@link #find} found, skipping the schemas registered already. */
    static Result register(Context context, Found found) {
        int added = context.catalog().addShards(found.schemas(), found.server().withoutPassword().withDatabase(null),
                found.identity());
        int matched = found.schemas().size() + found.refused().size();
        return new Result(found.server().serverKey(), matched, added, found.schemas().size() - added, found.refused());
    }
}
