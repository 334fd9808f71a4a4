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

    /**
     * The catalog's pool. Its first connection is made now, so a bad DSN or password fails here. Sessions run in
     * UTC (stall checks must not jump with daylight saving) and give up on a silent server after
     * {@code socketTimeoutMillis}, so a runner never hangs on a catalog that vanished mid-query. Strict mode makes
     * a value too long for its column an error instead of a silently truncated row.
     */
    public static HikariDataSource catalogPool(Dsn dsn, int maxSize, int socketTimeoutMillis) {
        HikariConfig hc = config("catalog", dsn, maxSize);
        hc.addDataSourceProperty("socketTimeout", String.valueOf(socketTimeoutMillis));
        hc.setConnectionInitSql("SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'");
        hc.setInitializationFailTimeout(1);
        return start(hc, dsn);
    }

    /**
     * A pool to one shard server; no socket timeout, since a change may run for hours. Every session first runs
     * {@code initSql} (the session settings every change runs with).
     */
    public static HikariDataSource shardPool(String name, Dsn dsn, int maxSize, String initSql) {
        HikariConfig hc = config(name, dsn, maxSize);
        hc.setConnectionInitSql(initSql);
        hc.setInitializationFailTimeout(-1);
        return start(hc, dsn);
    }

    private static HikariConfig config(String name, Dsn dsn, int maxSize) {
        HikariConfig hc = new HikariConfig();
        hc.setPoolName(name);
        hc.setJdbcUrl(dsn.jdbcUrl());
        hc.setDataSourceProperties(dsn.jdbcProperties());
        // The database is selected after login, never written into the URL (see Dsn#jdbcUrl).
        hc.setCatalog(dsn.database());
        hc.setMaximumPoolSize(maxSize);
        hc.setMinimumIdle(0);
        hc.setConnectionTimeout(10_000);
        hc.setValidationTimeout(3_000);
        // Catalog claims scan an index under READ COMMITTED so they lock only the row they take, not the gaps.
        hc.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        return hc;
    }

    private static HikariDataSource start(HikariConfig hc, Dsn dsn) {
        try {
            return new HikariDataSource(hc);
        } catch (HikariPool.PoolInitializationException e) {
            throw cannotConnect(dsn, e.getCause() == null ? e : e.getCause());
        }
    }

    /** One plain connection, for short checks (shard add, discover, init), in the DSN's database if it names one. */
    public static Connection connect(Dsn dsn) {
        try {
            DriverManager.setLoginTimeout(10);
            return inDatabase(DriverManager.getConnection(dsn.jdbcUrl(), dsn.jdbcProperties()), dsn.database());
        } catch (SQLException e) {
            throw cannotConnect(dsn, e);
        }
    }

    /** {@code c} with {@code database} selected (none: as it is), or closed when that fails. */
    public static Connection inDatabase(Connection c, String database) throws SQLException {
        try {
            c.setCatalog(database);
            return c;
        } catch (SQLException e) {
            c.close();
            throw e;
        }
    }

    public static ShardSchemaException cannotConnect(Dsn dsn, Throwable cause) {
        String message = rootMessage(cause);
        if (message.contains("restrictedAuth")) {
            message += " (the server asked for a method that sends the password in clear; if this server may have"
                    + " it, name the method in the DSN's restrictedAuth option)";
        }
        return ShardSchemaException.error("cannot connect to " + dsn + ": " + message, cause);
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
