package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.config.DataSources;
import io.shardschema.config.Dsn;
import io.shardschema.runner.ShardConnections;

import java.sql.Connection;
import java.util.regex.Pattern;

/**
 * What shard add and shard discover share: parsing the DSN a user typed, warning about a password given on the
 * command line (it is used for the check, never stored), and connecting with the credentials a runner would use.
 */
final class ShardTarget {
    private static final Pattern SCHEMA_NAME = Pattern.compile("[A-Za-z0-9_$-]{1,64}");

    private ShardTarget() {
    }

    static Dsn parse(Context context, String text) {
        Dsn dsn = Dsn.parse(text);
        if (dsn.hasPassword()) {
            context.warn("the DSN's password is used for this check only and is not stored: the catalog never holds"
                    + " passwords, and runners read shard passwords from defaultsFile; also, a password on the"
                    + " command line is visible in the process list");
        }
        return dsn;
    }

    static void checkSchemaName(String schema) {
        if (schema == null || !SCHEMA_NAME.matcher(schema).matches()) {
            throw ShardSchemaException.usage("invalid schema name '" + schema
                    + "': use 1 to 64 letters, digits, _, $ or -");
        }
    }

    /** Connects as a runner would (password from the DSN, defaultsFile or the catalog DSN). */
    static Connection connect(Context context, Dsn dsn) {
        Dsn effective = dsn.password() != null ? dsn : new ShardConnections(context.config(), context.catalogDsn(), 1)
                .effective(dsn.toGoForm(false), dsn.database());
        return DataSources.connect(effective.withDatabase(null));
    }
}
