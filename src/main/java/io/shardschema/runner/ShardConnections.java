package io.shardschema.runner;

import com.zaxxer.hikari.HikariDataSource;
import io.shardschema.Printable;
import io.shardschema.ShardSchemaException;
import io.shardschema.config.Config;
import io.shardschema.config.DataSources;
import io.shardschema.config.Dsn;
import io.shardschema.config.OptionFile;
import io.shardschema.config.PasswordHosts;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Connections to shards: one small pool per server (not per schema), so thousands of shards on a few servers
 * reuse a few connections. Applies the host/port/database overrides and finds the password, which the catalog
 * never holds: from {@code defaultsFile} for the servers {@code defaultsFileHosts} lists, else from the catalog DSN
 * when the shard is on the catalog's server as the same user. A server that would need the defaultsFile password
 * but is not listed is refused, so that no DSN can send the fleet's password to a server of its choosing.
 */
public final class ShardConnections implements AutoCloseable {
    private final Config config;
    private final Dsn catalogDsn;
    private final Optional<OptionFile> options;
    private final PasswordHosts passwordHosts;
    private final int poolSize;
    private final Map<Dsn, HikariDataSource> pools = new ConcurrentHashMap<>();

    public ShardConnections(Config config, Dsn catalogDsn, int poolSize) {
        this.config = config;
        this.catalogDsn = catalogDsn;
        this.options = config.defaultsFile().map(OptionFile::read);
        this.passwordHosts = config.defaultsFileHosts();
        this.poolSize = poolSize;
    }

    /**
     * The DSN a shard (or replica) stored as {@code storedDsn} is really reached at: its server, with overrides
     * applied and credentials filled in, and the shard's schema from {@code schemaName}, never from the DSN.
     * Catalogs of older versions stored the schema in the DSN too: such a row is accepted only when the schema there
     * is the row's own, since a schema name that was pasted into a DSN could have rewritten it (another server,
     * other TLS options).
     */
    public Dsn effective(String storedDsn, String schemaName) {
        Dsn stored = Dsn.parse(storedDsn);
        if (stored.database() != null && !stored.database().equals(schemaName)) {
            throw ShardSchemaException.error("the catalog's DSN of schema '" + Printable.escape(schemaName)
                    + "' names another schema, '" + Printable.escape(stored.database()) + "': an older version built"
                    + " it from the schema name, which then changed the DSN; not connecting. `shardschema shard"
                    + " remove` the shard and register it again");
        }
        return effective(stored, schemaName);
    }

    /** The DSN a server given as {@code server} is reached at for schema {@code schemaName}, as a runner would. */
    public Dsn effective(Dsn server, String schemaName) {
        Dsn dsn = server
                .withServer(config.hostOverride().orElse(null), config.portOverride().orElse(null))
                .withDatabase(config.databaseOverride().orElse(schemaName));
        if (dsn.password() != null) {
            return dsn;
        }
        String user = dsn.user() != null ? dsn.user() : options.flatMap(OptionFile::user).orElse(null);
        Optional<String> filePassword = options.flatMap(OptionFile::password);
        if (filePassword.isPresent() && passwordHosts.allows(dsn)) {
            return dsn.withCredentials(user, filePassword.get());
        }
        if (catalogDsn != null && catalogDsn.password() != null && catalogDsn.serverKey().equals(dsn.serverKey())
                && java.util.Objects.equals(user, catalogDsn.user())) {
            return dsn.withCredentials(user, catalogDsn.password());
        }
        if (filePassword.isPresent()) {
            throw ShardSchemaException.usage("server " + dsn.serverKey() + " is not in " + PasswordHosts.KEY
                    + ", so it does not get the defaultsFile password: if it is one of your servers, add it (or a"
                    + " pattern such as *.db.example.com or 10.0.3.*) to " + PasswordHosts.KEY + " in the config");
        }
        return dsn.withCredentials(user, null);
    }

    /** A connection whose default schema is the shard's. */
    public Connection connect(String storedDsn, String schemaName) throws SQLException {
        Dsn dsn = effective(storedDsn, schemaName);
        HikariDataSource pool = pools.computeIfAbsent(dsn.withDatabase(null),
                server -> DataSources.shardPool("shards@" + server.serverKey(), server, poolSize,
                        // A change waiting for a metadata lock blocks every query queued behind it: give up soon.
                        "SET SESSION lock_wait_timeout = " + config.lockWaitTimeoutSeconds()));
        return DataSources.inDatabase(pool.getConnection(), dsn.database());
    }

    @Override
    public void close() {
        pools.values().forEach(HikariDataSource::close);
        pools.clear();
    }
}
