package io.shardschema.config;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.pool.HikariPool;
import io.shardschema.ShardSchemaException;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/** Opens connections and pools from DSNs; failures become messages that name the server, never the password. */
public final class DataSources {
    private DataSources() {
    }

    /** A pool; with {@code failFast} the first connection is made now, so a bad DSN or password fails here. */
    public static HikariDataSource pool(String name, Dsn dsn, int maxSize, boolean failFast) {
        HikariConfig hc = new HikariConfig();
        hc.setPoolName(name);
        hc.setJdbcUrl(dsn.jdbcUrl());
        hc.setDataSourceProperties(dsn.jdbcProperties());
        hc.setMaximumPoolSize(maxSize);
        hc.setMinimumIdle(0);
        hc.setConnectionTimeout(10_000);
        hc.setValidationTimeout(3_000);
        hc.setInitializationFailTimeout(failFast ? 1 : -1);
        // Catalog claims scan an index under READ COMMITTED so they lock only the row they take, not the gaps.
        hc.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        try {
            return new HikariDataSource(hc);
        } catch (HikariPool.PoolInitializationException e) {
            throw cannotConnect(dsn, e.getCause() == null ? e : e.getCause());
        }
    }

    /** One plain connection, for short checks (shard add, discover, init). */
    public static Connection connect(Dsn dsn) {
        try {
            DriverManager.setLoginTimeout(10);
            return DriverManager.getConnection(dsn.jdbcUrl(), dsn.jdbcProperties());
        } catch (SQLException e) {
            throw cannotConnect(dsn, e);
        }
    }

    public static ShardSchemaException cannotConnect(Dsn dsn, Throwable cause) {
        return ShardSchemaException.error("cannot connect to " + dsn + ": " + rootMessage(cause), cause);
    }

    /** The most specific message of a cause chain (the driver wraps the server's reason several times). */
    public static String rootMessage(Throwable t) {
        Throwable cur = t;
        String message = t.getMessage();
        while (cur.getCause() != null && cur.getCause() != cur) {
            cur = cur.getCause();
            if (cur.getMessage() != null) {
                message = cur.getMessage();
            }
        }
        return message == null ? t.getClass().getSimpleName() : message.strip();
    }
}
