package io.shardschema.cli;

import io.shardschema.config.DataSources;
import io.shardschema.config.Dsn;
import io.shardschema.runner.ShardConnections;

import java.sql.Connection;

/**
 * What shard add and shard discover share: parsing the DSN a user typed, warning about a password given on the
 * command line (it is used for the check, never stored), and connecting with the credentials a runner would use.
 */
final class ShardTarget {
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

    /** Connects as a runner would (password from the DSN, defaultsFile or the catalog DSN). */
    static Connection connect(Context context, Dsn dsn) {
        Dsn effective = dsn.password() != null ? dsn : new ShardConnections(context.config(), context.catalogDsn(), 1)
                .effective(dsn, dsn.database());
        return DataSources.connect(effective.withDatabase(null));
    }
}
