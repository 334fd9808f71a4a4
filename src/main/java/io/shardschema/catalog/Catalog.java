package io.shardschema.catalog;

import com.zaxxer.hikari.HikariDataSource;
import io.shardschema.ShardSchemaException;
import io.shardschema.config.DataSources;
import io.shardschema.config.Dsn;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Every query against the catalog. Claims are single atomic UPDATEs on indexed columns; every write that ends a
 * task is fenced by the lease token, so a runner that lost its lease can never move a shard's version.
 */
public final class Catalog implements AutoCloseable {
    private static final String SHARD_COLUMNS =
            "shardId, schemaName, shardDSN, version, state, task, lastTaskHb, attempts, serverKey";
    private static final String RUN_COLUMNS =
            "shardId, version, run, state, runner, message, executed, output, err, startedAt, finishedAt";

    private static final int DEADLOCK = 1213;
    private static final int LOCK_WAIT_TIMEOUT = 1205;
    private static final int DUPLICATE_KEY = 1062;
    private static final int UNKNOWN_DATABASE = 1049;
    /** Longer than any catalog query takes; short enough that a vanished catalog is noticed before a stall. */
    private static final int SOCKET_TIMEOUT_MILLIS = 30_000;

    private final HikariDataSource ds;
    private final Dsn dsn;
    private final OnlineCatalog online = new OnlineCatalog(this);
    private String id;

    private Catalog(HikariDataSource ds, Dsn dsn) {
        this.ds = ds;
        this.dsn = dsn;
    }

    /** Opens the catalog and checks it is at the current layout (else: run init). */
    public static Catalog open(Dsn dsn, int poolSize) {
        if (dsn.database() == null) {
            throw ShardSchemaException.usage("dbDSN " + dsn + " names no database; add /catalogname");
        }
        HikariDataSource ds;
        try {
            ds = DataSources.catalogPool(dsn, poolSize, SOCKET_TIMEOUT_MILLIS);
        } catch (ShardSchemaException e) {
            throw unknownDatabase(e) ? notCreated(dsn) : e;
        }
        Catalog catalog = new Catalog(ds, dsn);
        try (Connection c = ds.getConnection()) {
            int layout = CatalogLayout.layout(c);
            if (layout != CatalogLayout.CURRENT) {
                ds.close();
                throw ShardSchemaException.error("catalog " + dsn + (layout == 0 ? " is not initialised; run `shardschema init`"
                        : layout < CatalogLayout.CURRENT ? " has layout " + layout + ", this build needs "
                        + CatalogLayout.CURRENT + "; run `shardschema init` to upgrade it"
                        : " has layout " + layout + ", newer than this build's " + CatalogLayout.CURRENT
                        + "; use a newer shardschema"));
            }
            catalog.id = CatalogLayout.catalogId(c);
        } catch (SQLException e) {
            ds.close();
            throw unknownDatabase(e) ? notCreated(dsn) : DataSources.cannotConnect(dsn, e);
        }
        return catalog;
    }

    private static ShardSchemaException notCreated(Dsn dsn) {
        return ShardSchemaException.error("catalog " + dsn + ": its database does not exist yet; run `shardschema init`"
                + " to create it");
    }

    private static boolean unknownDatabase(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && s.getErrorCode() == UNKNOWN_DATABASE) {
                return true;
            }
        }
        return false;
    }

    /** The record of online changes (phases, gates, progress). */
    public OnlineCatalog online() {
        return online;
    }

    public Dsn dsn() {
        return dsn;
    }

    /** The catalog's id, the same for every runner however it reaches the catalog (it names shard-side locks). */
    public String id() {
        return id;
    }

    @Override
    public void close() {
        ds.close();
    }

    // ---- shards -------------------------------------------------------------------------------------------

    /**
     * Registers one shard and its replicas in one transaction; no DSN may carry a password. Refuses a schema already
     * registered on that server, however the server is spelled when {@code serverIdentity} (what the server said it
     * is, see {@link #identify}; null: not known) is given.
     */
    public long addShard(String schemaName, Dsn shardDsn, String serverIdentity, List<Dsn> replicas) {
        return addShard(schemaName, shardDsn, serverIdentity, replicas, Start.NEW);
    }

    /**
     * Where a shard starts when it is registered: at version 0 (every version runs on it), or at a version whose
     * expected schema it was found to have ({@code fingerprint}), recorded as a baselined run.
     */
    public record Start(int version, String fingerprint) {
        public static final Start NEW = new Start(0, null);
    }

    /** As {@link #addShard(String, Dsn, String, List)}, the shard starting at {@code start} in the same transaction. */
    public long addShard(String schemaName, Dsn shardDsn, String serverIdentity, List<Dsn> replicas, Start start) {
        requireNoPassword(shardDsn);
        replicas.forEach(Catalog::requireNoPassword);
        return sql(c -> inTransaction(c, () -> {
            long id;
            identifyOlderRows(c, shardDsn, serverIdentity);
            try (PreparedStatement ps = c.prepareStatement(INSERT_SHARD, Statement.RETURN_GENERATED_KEYS)) {
                bindShard(ps, schemaName, shardDsn, serverIdentity);
                ps.executeUpdate();
                try (ResultSet rs = ps.getGeneratedKeys()) {
                    rs.next();
                    id = rs.getLong(1);
                }
            } catch (SQLException e) {
                if (e.getErrorCode() == DUPLICATE_KEY) {
                    throw ShardSchemaException.usage("schema " + schemaName + " on " + shardDsn.serverKey()
                            + " is already registered as " + registered(c, schemaName, shardDsn.serverKey(), serverIdentity));
                }
                throw e;
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO replicas (shardId, replicaDSN) VALUES (?, ?)")) {
                for (Dsn replica : replicas) {
                    ps.setLong(1, id);
                    ps.setString(2, storable(replica, "replica " + replica.serverKey()));
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            if (start.version() > 0) {
                // In the same transaction as the insert: no runner can claim the shard at version 0 in between.
                try (PreparedStatement ps = c.prepareStatement("UPDATE shards SET version = ? WHERE shardId = ?")) {
                    ps.setInt(1, start.version());
                    ps.setLong(2, id);
                    ps.executeUpdate();
                }
                logBaselined(c, id, start.version(), start.fingerprint(), "registered at version " + start.version()
                        + ": its schema is the one expected there");
            }
            return id;
        }));
    }

    private static final String INSERT_SHARD = "INSERT INTO shards (schemaName, shardDSN, serverKey, serverIdentity,"
            + " task, lastTaskHb) VALUES (?, ?, ?, ?, NULL, NULL)";

    private static void bindShard(PreparedStatement ps, String schemaName, Dsn serverDsn, String serverIdentity)
            throws SQLException {
        SchemaNames.check(schemaName);
        ps.setString(1, schemaName);
        ps.setString(2, storable(serverDsn, "shard " + schemaName));
        ps.setString(3, serverDsn.serverKey());
        ps.setString(4, serverIdentity);
    }

    /** The identity (as {@link #identify} tells it) of the catalog's own server. */
    public String serverIdentity() {
        return sql(Catalog::identify);
    }

    /**
     * A server's identity, as it reports it, for the unique key on (identity, schema): the server's own
     * {@code server_uuid} where it has one (MySQL), else its host name, port and socket (MariaDB has no uuid).
     * Two spellings of one server ({@code db1} and its address, {@code localhost} and {@code 127.0.0.1}) give one
     * identity, so that no schema gets every change twice. Two MariaDB servers that report the same host name, port
     * and socket count as one.
     */
    public static String identify(Connection server) throws SQLException {
        try (Statement s = server.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT @@server_uuid")) {
                rs.next();
                return "uuid:" + rs.getString(1);
            } catch (SQLException noUuid) {
                try (ResultSet rs = s.executeQuery("SELECT @@hostname, @@port, @@socket")) {
                    rs.next();
                    return "host:" + rs.getString(1) + ":" + rs.getInt(2) + ":" + rs.getString(3);
                }
            }
        }
    }

    /**
     * Rows of this server registered before identities were kept (or with --no-check) get the identity now, so that
     * they too are found through another spelling; a row whose schema is already taken by that identity (registered
     * twice before) keeps none.
     */
    private static void identifyOlderRows(Connection c, Dsn serverDsn, String serverIdentity) throws SQLException {
        if (serverIdentity == null) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE IGNORE shards SET serverIdentity = ?"
                + " WHERE serverKey = ? AND serverIdentity IS NULL")) {
            ps.setString(1, serverIdentity);
            ps.setString(2, serverDsn.serverKey());
            ps.executeUpdate();
        }
    }

    /**
     * A shard's or replica's DSN as the catalog stores it: the server only. The schema is kept apart, in
     * {@code schemaName}, so that no name can become part of a DSN.
     */
    public static String stored(Dsn dsn) {
        return dsn.withoutPassword().withDatabase(null).toGoForm(false);
    }

    /** {@link #stored}, refused (never truncated) when too long for the column. */
    private static String storable(Dsn dsn, String what) {
        String stored = stored(dsn);
        if (stored.length() > CatalogLayout.SHARD_DSN_MAX) {
            throw ShardSchemaException.usage("the DSN of " + what + " is " + stored.length()
                    + " characters long; the catalog stores at most " + CatalogLayout.SHARD_DSN_MAX
                    + " (shorten the certificate paths or use a defaultsFile)");
        }
        return stored;
    }

    /**
     * Registers many schemas of one server in one batch; schemas already registered there (also through another
     * spelling of the server, when {@code serverIdentity} is known) are skipped.
     */
    public int addShards(List<String> schemaNames, Dsn serverDsn, String serverIdentity) {
        requireNoPassword(serverDsn);
        return sql(c -> inTransaction(c, () -> {
            identifyOlderRows(c, serverDsn, serverIdentity);
            int before = shardsOn(c, serverDsn.serverKey());
            try (PreparedStatement ps = c.prepareStatement(INSERT_SHARD.replace("INSERT", "INSERT IGNORE"))) {
                for (String schema : schemaNames) {
                    bindShard(ps, schema, serverDsn, serverIdentity);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            // Bulk batches report no per-row counts, so count what is there now.
            return shardsOn(c, serverDsn.serverKey()) - before;
        }));
    }

    private static int shardsOn(Connection c, String serverKey) throws SQLException {
        return queryInt(c, "SELECT COUNT(*) FROM shards WHERE serverKey = ?", serverKey);
    }

    /** The one number a query returns (a count, a maximum), its parameters bound in order. */
    static int queryInt(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    private static void requireNoPassword(Dsn dsn) {
        if (dsn.hasPassword()) {
            throw new IllegalArgumentException("a DSN with a password must never reach the catalog");
        }
    }

    /** The shard that holds this schema of this server, under this spelling of it or another: for messages. */
    private static String registered(Connection c, String schemaName, String serverKey, String serverIdentity)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT shardId, serverKey FROM shards WHERE schemaName = ?"
                + " AND (serverKey = ? OR serverIdentity = ?) ORDER BY serverKey = ? DESC LIMIT 1")) {
            ps.setString(1, schemaName);
            ps.setString(2, serverKey);
            ps.setString(3, serverIdentity);
            ps.setString(4, serverKey);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return "a shard";
                }
                return "shard " + rs.getLong(1) + (rs.getString(2).equals(serverKey) ? ""
                        : " (on " + rs.getString(2) + ", the same server: it reports the same identity)");
            }
        }
    }

    /** Each shard's server identity as registered (see {@link #identify}); a shard registered without one is absent. */
    public Map<Long, String> serverIdentities() {
        return sql(c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                    "SELECT shardId, serverIdentity FROM shards WHERE serverIdentity IS NOT NULL")) {
                Map<Long, String> out = new HashMap<>();
                while (rs.next()) {
                    out.put(rs.getLong(1), rs.getString(2));
                }
                return out;
            }
        });
    }

    /**
     * The shards a runner would still move towards version {@code latest} (or towards their pin, for shards
     * `down` pinned): neither there nor failed nor waiting at a gate, lowest id first.
     */
    public List<Long> shardsBehind(int latest) {
        return sql(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT shardId FROM shards WHERE state NOT IN"
                    + " ('failed', 'waiting') AND version <> COALESCE(targetVersion, ?) ORDER BY shardId")) {
                ps.setInt(1, latest);
                try (ResultSet rs = ps.executeQuery()) {
                    List<Long> ids = new ArrayList<>();
                    while (rs.next()) {
                        ids.add(rs.getLong(1));
                    }
                    return ids;
                }
            }
        });
    }

    public List<Shard> shards() {
        return sql(c -> {
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT " + SHARD_COLUMNS + " FROM shards ORDER BY shardId")) {
                List<Shard> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(shard(rs));
                }
                return out;
            }
        });
    }

    /** One page of shards (lowest id first) and how many match in all; each with the state of its latest run. */
    public record ShardPage(int total, List<Shard> shards, Map<Long, String> lastRunStates) {
    }

    /** The shards in {@code state} (null: any), {@code limit} of them from {@code offset}. */
    public ShardPage shardPage(String state, int offset, int limit) {
        String where = state == null ? "" : " WHERE s.state = ?";
        return sql(c -> {
            int total = state == null ? queryInt(c, "SELECT COUNT(*) FROM shards s")
                    : queryInt(c, "SELECT COUNT(*) FROM shards s" + where, state);
            try (PreparedStatement ps = c.prepareStatement("SELECT " + SHARD_COLUMNS + ", (SELECT l.state FROM log l"
                    + " WHERE l.shardId = s.shardId ORDER BY l.version DESC, l.run DESC LIMIT 1)"
                    + " AS lastRunState FROM shards s" + where + " ORDER BY s.shardId LIMIT ? OFFSET ?")) {
                int i = 1;
                if (state != null) {
                    ps.setString(i++, state);
                }
                ps.setInt(i++, limit);
                ps.setInt(i, offset);
                List<Shard> out = new ArrayList<>();
                Map<Long, String> lastRuns = new HashMap<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Shard shard = shard(rs);
                        out.add(shard);
                        if (rs.getString("lastRunState") != null) {
                            lastRuns.put(shard.id(), rs.getString("lastRunState"));
                        }
                    }
                }
                return new ShardPage(total, out, lastRuns);
            }
        });
    }

    public Optional<Shard> shard(long id) {
        return sql(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + SHARD_COLUMNS + " FROM shards WHERE shardId = ?")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(shard(rs)) : Optional.empty();
                }
            }
        });
    }

    public Shard requireShard(long id) {
        return shard(id).orElseThrow(() -> ShardSchemaException.notFound(
                "unknown shard id " + id + "; `shardschema shard list` shows the registered shards"));
    }

    /** The replica DSNs of every shard that has any, by shard id, in the order they were added. */
    public Map<Long, List<String>> replicas() {
        return sql(c -> {
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT shardId, replicaDSN FROM replicas ORDER BY shardId, id")) {
                Map<Long, List<String>> out = new LinkedHashMap<>();
                while (rs.next()) {
                    out.computeIfAbsent(rs.getLong(1), id -> new ArrayList<>()).add(rs.getString(2));
                }
                return out;
            }
        });
    }

    /** One shard's replica DSNs, in the order they were added. */
    public List<String> replicas(long shardId) {
        return sql(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT replicaDSN FROM replicas WHERE shardId = ? ORDER BY id")) {
                ps.setLong(1, shardId);
                try (ResultSet rs = ps.executeQuery()) {
                    List<String> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(rs.getString(1));
                    }
                    return out;
                }
            }
        });
    }

    /** Removes a shard, its log rows and its replicas; refuses while a runner holds its task. */
    public void removeShard(long id) {
        Shard shard = requireShard(id);
        if (shard.state().equals("running")) {
            throw new ShardSchemaException(ShardSchemaException.REFUSED, "shard " + id + " is being worked by "
                    + shard.task() + "; wait for the task to finish (or stop the runner) before removing it");
        }
        if (shard.state().equals("waiting")) {
            throw new ShardSchemaException(ShardSchemaException.REFUSED, "shard " + id + " waits at a gate of an"
                    + " online change, whose triggers and shadow table may be on its table: `cancel` it and let a"
                    + " runner clean up before removing the shard");
        }
        sql(c -> inTransaction(c, () -> {
            try (PreparedStatement del = c.prepareStatement("DELETE FROM shards WHERE shardId = ? AND state NOT IN ('running', 'waiting')");
                 PreparedStatement log = c.prepareStatement("DELETE FROM log WHERE shardId = ?");
                 PreparedStatement online = c.prepareStatement("DELETE FROM online WHERE shardId = ?");
                 PreparedStatement replicas = c.prepareStatement("DELETE FROM replicas WHERE shardId = ?")) {
                del.setLong(1, id);
                if (del.executeUpdate() == 0) {
                    throw new ShardSchemaException(ShardSchemaException.REFUSED, "shard " + id
                            + " was claimed by a runner meanwhile; try again later");
                }
                log.setLong(1, id);
                log.executeUpdate();
                online.setLong(1, id);
                online.executeUpdate();
                replicas.setLong(1, id);
                replicas.executeUpdate();
            }
            return null;
        }));
    }

    private static Shard shard(ResultSet rs) throws SQLException {
        return new Shard(rs.getLong("shardId"), rs.getString("schemaName"), rs.getString("shardDSN"),
                rs.getInt("version"), rs.getString("state"), rs.getString("task"), instant(rs.getTimestamp("lastTaskHb")),
                rs.getInt("attempts"), rs.getString("serverKey"));
    }

    /** Lets failed shards run again; returns how many were failed. */
    public int retry(Collection<Long> shardIds) {
        return sql(c -> {
            int n = 0;
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE shards SET state = 'ready', attempts = 0, retryAt = NULL WHERE shardId = ? AND state = 'failed'");
                 // A cancelled online change starts again from the beginning.
                 PreparedStatement restart = c.prepareStatement("DELETE FROM online WHERE shardId = ? AND phase = ?")) {
                for (long id : shardIds) {
                    ps.setLong(1, id);
                    int retried = ps.executeUpdate();
                    if (retried > 0) {
                        restart.setLong(1, id);
                        restart.setString(2, OnlineCatalog.CANCELLED);
                        restart.executeUpdate();
                    }
                    n += retried;
                }
            }
            return n;
        });
    }

    /**
     * Pins shards at {@code version} (null: releases the pin, so they follow the latest version again): every shard,
     * or only {@code shardId}. A failed shard above the pin becomes ready, to go down. Refused while a runner or a
     * gate holds one of them. Returns how many shards were pinned or released.
     */
    public int pin(Long shardId, Integer version) {
        return sql(c -> inTransaction(c, () -> {
            String which = shardId == null ? "" : " AND shardId = ?";
            int busy = shardId == null ? queryInt(c, "SELECT COUNT(*) FROM shards WHERE state IN ('running', 'waiting')")
                    : queryInt(c, "SELECT COUNT(*) FROM shards WHERE state IN ('running', 'waiting')" + which, shardId);
            if (busy > 0) {
                throw new ShardSchemaException(ShardSchemaException.REFUSED, busy + " of the shards are being worked by"
                        + " a runner or wait at a gate of an online change; let the runners finish (or stop them with"
                        + " the stop file) and try again");
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE shards SET targetVersion = ?,"
                    + " attempts = IF(state = 'failed' AND version > ?, 0, attempts),"
                    + " retryAt = IF(state = 'failed' AND version > ?, NULL, retryAt),"
                    + " state = IF(state = 'failed' AND version > ?, 'ready', state)"
                    + " WHERE state IN ('ready', 'failed')" + which)) {
                ps.setObject(1, version);
                ps.setObject(2, version);
                ps.setObject(3, version);
                ps.setObject(4, version);
                if (shardId != null) {
                    ps.setLong(5, shardId);
                }
                return ps.executeUpdate();
            }
        }));
    }

    /** The first {@code limit} failed shards, lowest id first, named. */
    public List<ShardName> failedShards(int limit) {
        return sql(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT shardId, schemaName, serverKey FROM shards"
                    + " WHERE state = 'failed' ORDER BY shardId LIMIT ?")) {
                ps.setInt(1, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    List<ShardName> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(new ShardName(rs.getLong(1), rs.getString(2), rs.getString(3)));
                    }
                    return out;
                }
            }
        });
    }

    /**
     * The names of the shards among {@code ids} that are registered, by id (for reports that list shards by id,
     * such as the log's runs).
     */
    public Map<Long, ShardName> names(Collection<Long> ids) {
        List<Long> distinct = new ArrayList<>(new java.util.TreeSet<>(ids));
        return sql(c -> {
            Map<Long, ShardName> out = new HashMap<>();
            // In chunks: a statement takes at most 65,535 placeholders.
            for (int from = 0; from < distinct.size(); from += 1000) {
                List<Long> chunk = distinct.subList(from, Math.min(distinct.size(), from + 1000));
                try (PreparedStatement ps = c.prepareStatement("SELECT shardId, schemaName, serverKey FROM shards"
                        + " WHERE shardId IN (" + String.join(",", java.util.Collections.nCopies(chunk.size(), "?")) + ")")) {
                    for (int i = 0; i < chunk.size(); i++) {
                        ps.setLong(i + 1, chunk.get(i));
                    }
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            out.put(rs.getLong(1), new ShardName(rs.getLong(1), rs.getString(2), rs.getString(3)));
                        }
                    }
                }
            }
            return out;
        });
    }

    public List<Long> failedShardIds() {
        return sql(c -> {
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT shardId FROM shards WHERE state = 'failed' ORDER BY shardId")) {
                List<Long> ids = new ArrayList<>();
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                }
                return ids;
            }
        });
    }

    // ---- versions -----------------------------------------------------------------------------------------

    public int addVersion(String table, String command, String type, String validationQuery, String validationExpected) {
        return addVersion(new Version(0, table, command, type, validationQuery, validationExpected), null);
    }

    /**
     * Registers {@code draft} (its number is ignored) as the next version and returns its number. Version adds take
     * turns (a row lock on the layout table), so versions become visible in number order: a runner that sees a
     * version has seen every lower one, and never skips one that committed late. {@code chainedFrom}, when given,
     * is the latest version the draft's expected schema starts from (0: none); a later one added meanwhile refuses
     * the draft, whose preflight would have started from the wrong schema.
     */
    public int addVersion(Version draft, Integer chainedFrom) {
        return sql(c -> inTransaction(c, () -> {
            try (PreparedStatement lock = c.prepareStatement("SELECT layout FROM " + CatalogLayout.LAYOUT_TABLE
                    + " WHERE id = 1 FOR UPDATE")) {
                lock.executeQuery().close();
            }
            int latest = queryInt(c, "SELECT COALESCE(MAX(version), 0) FROM versions");
            if (chainedFrom != null && latest != chainedFrom) {
                throw new ShardSchemaException(ShardSchemaException.REFUSED, "version " + latest + " was added while"
                        + " this one was preflighted from " + (chainedFrom == 0 ? "the shard's tables"
                        : "the schema expected after version " + chainedFrom) + "; nothing was written: run"
                        + " `version add` (or `apply`) again");
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO versions (command, tableName, cmdType,"
                    + " validationQuery, validationExpected, options, autoApprove, autoCutover, finalInsert,"
                    + " expectedSchema, expectedFingerprint, tableBefore, algorithm, rollbackCommand, forced)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", Statement.RETURN_GENERATED_KEYS)) {
                ps.setString(1, draft.command());
                ps.setString(2, draft.tableName());
                ps.setString(3, draft.type());
                ps.setString(4, draft.validationQuery());
                ps.setString(5, draft.validationExpected());
                ps.setString(6, draft.online().options().isEmpty() ? null : encodeOptions(draft.online().options()));
                ps.setBoolean(7, draft.online().autoApprove());
                ps.setBoolean(8, draft.online().autoCutover());
                ps.setString(9, draft.online().finalInsert());
                Version.Expected e = draft.expected();
                ps.setString(10, e.schemaAfter() == null ? null : encodeSchema(e.schemaAfter()));
                ps.setString(11, e.tableFingerprint());
                ps.setString(12, e.tableBefore());
                ps.setString(13, e.algorithm());
                ps.setString(14, draft.rollback());
                ps.setBoolean(15, draft.force());
                ps.executeUpdate();
                try (ResultSet rs = ps.getGeneratedKeys()) {
                    rs.next();
                    return rs.getInt(1);
                }
            }
        }));
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    /** A schema (table name to definition) is stored as a JSON object: definitions may hold any character. */
    private static String encodeSchema(java.util.SortedMap<String, String> schema) {
        try {
            return JSON.writeValueAsString(schema);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static java.util.SortedMap<String, String> decodeSchema(String stored) {
        if (stored == null) {
            return null;
        }
        try {
            return JSON.readValue(stored, new com.fasterxml.jackson.core.type.TypeReference<java.util.TreeMap<String, String>>() { });
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw ShardSchemaException.error("the expected schema stored with a version is not valid JSON: "
                    + e.getOriginalMessage());
        }
    }

    /** Options are stored one {@code name=value} per line, in the order given. */
    private static String encodeOptions(Map<String, String> options) {
        StringBuilder sb = new StringBuilder();
        options.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        return sb.toString();
    }

    private static Map<String, String> decodeOptions(String stored) {
        Map<String, String> out = new LinkedHashMap<>();
        if (stored != null) {
            for (String line : stored.split("\n")) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    out.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
        }
        return out;
    }

    public List<Version> versions() {
        return sql(c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT version, tableName, command,"
                    + " cmdType, validationQuery, validationExpected, options, autoApprove, autoCutover, finalInsert,"
                    + " expectedSchema, expectedFingerprint, tableBefore, algorithm, rollbackCommand, forced"
                    + " FROM versions ORDER BY version")) {
                List<Version> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(new Version(rs.getInt(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            rs.getString(5), rs.getString(6), new Version.Online(decodeOptions(rs.getString(7)),
                            rs.getBoolean(8), rs.getBoolean(9), rs.getString(10)),
                            new Version.Expected(decodeSchema(rs.getString(11)), rs.getString(12), rs.getString(13),
                                    rs.getString(14)), rs.getString(15), rs.getBoolean(16)));
                }
                return out;
            }
        });
    }

    /** The version numbered {@code number}, or a usage error naming the registered range. */
    public Version requireVersion(int number) {
        return versions().stream().filter(v -> v.number() == number).findFirst().orElseThrow(() ->
                ShardSchemaException.notFound("unknown version " + number + "; `shardschema version list` shows them"));
    }

    /** How many versions there are and the highest number: a cache of versions is current when both match. */
    public record VersionTotals(int count, int max) {
    }

    public VersionTotals versionTotals() {
        return sql(c -> {
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT COUNT(*), COALESCE(MAX(version), 0) FROM versions")) {
                rs.next();
                return new VersionTotals(rs.getInt(1), rs.getInt(2));
            }
        });
    }

    /**
     * Refuses a statement the server cannot parse, before anything is written: PREPARE parses without running.
     * Only a parse error counts; a statement PREPARE does not support, or a missing table, is left to the shards.
     */
    public void checkSyntax(String statement) {
        sql(c -> {
            try (PreparedStatement ps = c.prepareStatement("PREPARE shardschema_syntax_check FROM ?")) {
                ps.setString(1, statement);
                ps.execute();
            } catch (SQLException e) {
                if (e.getErrorCode() == 1064) {
                    throw ShardSchemaException.usage("the statement does not parse: " + statement + "\n  "
                            + e.getMessage().replaceFirst("^\\(conn=\\d+\\) ", "") + "\nnothing was written");
                }
                return null;
            }
            try (Statement s = c.createStatement()) {
                s.execute("DEALLOCATE PREPARE shardschema_syntax_check");
            }
            return null;
        });
    }

    // ---- claims and leases --------------------------------------------------------------------------------

    /** Servers that already have {@code budget} or more tasks running, by any runner. */
    public Set<String> saturatedServers(int budget) {
        return sql(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT serverKey FROM shards WHERE state = 'running'"
                    + " GROUP BY serverKey HAVING COUNT(*) >= ?")) {
                ps.setInt(1, budget);
                try (ResultSet rs = ps.executeQuery()) {
                    Set<String> out = new HashSet<>();
                    while (rs.next()) {
                        out.add(rs.getString(1));
                    }
                    return out;
                }
            }
        });
    }

    /** Takes over the task whose heartbeat is oldest and older than {@code stallSeconds}: one atomic UPDATE. */
    public Optional<Lease> takeOverStalled(String token, int stallSeconds, Collection<String> excludedServers) {
        return claim(token, true, takeOverSql(excludedServers.size()), ps -> {
            ps.setString(1, token);
            ps.setInt(2, stallSeconds);
            bindAll(ps, 3, excludedServers);
        });
    }

    /**
     * Claims the next ready task (lowest version first) below {@code maxVersion}, else a shard that `down --to`
     * sends below its version: one atomic UPDATE each.
     */
    public Optional<Lease> claimNext(String token, int maxVersion, Collection<String> excludedServers) {
        Optional<Lease> up = claim(token, false, claimNextSql(excludedServers.size()), ps -> {
            ps.setString(1, token);
            ps.setInt(2, maxVersion);
            bindAll(ps, 3, excludedServers);
        });
        return up.isPresent() ? up : claim(token, false, claimDownSql(excludedServers.size()), ps -> {
            ps.setString(1, token);
            bindAll(ps, 2, excludedServers);
        });
    }

    private Optional<Lease> claim(String token, boolean takeover, String update, Binder binder) {
        return sql(c -> {
            try (PreparedStatement ps = c.prepareStatement(update)) {
                binder.bind(ps);
                if (ps.executeUpdate() == 0) {
                    return Optional.empty();
                }
            }
            // The claimed row, its next and previous versions (numbers may have gaps) and its server's running
            // count, in one trip.
            try (PreparedStatement ps = c.prepareStatement("SELECT " + SHARD_COLUMNS + ", targetVersion,"
                    + " (SELECT MIN(v.version) FROM versions v WHERE v.version > shards.version) AS nextVersion,"
                    + " (SELECT COALESCE(MAX(v.version), 0) FROM versions v WHERE v.version < shards.version)"
                    + " AS previousVersion,"
                    + " (SELECT COUNT(*) FROM shards r WHERE r.state = 'running' AND r.serverKey = shards.serverKey)"
                    + " AS runningOnServer FROM shards WHERE task = ?")) {
                ps.setString(1, token);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    Shard s = shard(rs);
                    Integer pin = rs.getObject("targetVersion", Integer.class);
                    boolean down = pin != null && s.version() > pin;
                    return Optional.of(new Lease(token, s.id(), s.schemaName(), s.dsn(), s.serverKey(), s.version(),
                            down ? s.version() : rs.getInt("nextVersion"), s.attempts(), takeover,
                            rs.getInt("runningOnServer"), pin, rs.getInt("previousVersion")));
                }
            }
        });
    }

    /** The claim of a stalled task; walks the (state, lastTaskHb) index from the oldest heartbeat. */
    static String takeOverSql(int excludedServers) {
        return "UPDATE shards SET task = ?, lastTaskHb = NOW() WHERE state = 'running'"
                + " AND lastTaskHb < NOW() - INTERVAL ? SECOND" + serverNotIn(excludedServers)
                + " ORDER BY lastTaskHb LIMIT 1";
    }

    /** The claim of the next ready task; walks the (state, version) index, so it stays cheap at any fleet size. */
    static String claimNextSql(int excludedServers) {
        return "UPDATE shards SET state = 'running', task = ?, lastTaskHb = NOW()"
                + " WHERE state = 'ready' AND version < ? AND (targetVersion IS NULL OR version < targetVersion)"
                + " AND (retryAt IS NULL OR retryAt <= NOW())"
                + serverNotIn(excludedServers) + " ORDER BY state, version, shardId LIMIT 1";
    }

    /** The claim of a shard above its pin; walks the (state, targetVersion) index, empty unless `down` ran. */
    static String claimDownSql(int excludedServers) {
        return "UPDATE shards SET state = 'running', task = ?, lastTaskHb = NOW()"
                + " WHERE state = 'ready' AND targetVersion IS NOT NULL AND version > targetVersion"
                + " AND (retryAt IS NULL OR retryAt <= NOW())" + serverNotIn(excludedServers)
                + " ORDER BY state, targetVersion, shardId LIMIT 1";
    }

    private static String serverNotIn(int count) {
        return count == 0 ? "" : " AND serverKey NOT IN (" + String.join(",", java.util.Collections.nCopies(count, "?")) + ")";
    }

    private static void bindAll(PreparedStatement ps, int from, Collection<String> values) throws SQLException {
        int i = from;
        for (String v : values) {
            ps.setString(i++, v);
        }
    }

    /** Gives a fresh claim back untouched (used when it overshot a server's budget). */
    public void release(Lease lease) {
        sql(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE shards SET state = 'ready', task = NULL WHERE shardId = ? AND task = ?")) {
                ps.setLong(1, lease.shardId());
                ps.setString(2, lease.token());
                return ps.executeUpdate();
            }
        });
    }

    /**
     * Refreshes the lease's heartbeat; false when the lease is no longer this runner's: another runner took it
     * over, or the task ended (then the runner's own run closed it a moment ago, which the caller can tell).
     */
    public boolean heartbeat(Lease lease) {
        return sql(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE shards SET lastTaskHb = NOW() WHERE shardId = ? AND task = ? AND state = 'running'")) {
                ps.setLong(1, lease.shardId());
                ps.setString(2, lease.token());
                return ps.executeUpdate() > 0;
            }
        });
    }

    /** The fence of a run's writes: rows of {@code shards s} that say the lease is still ours. */
    static final String LEASE_HELD = "s.shardId = ? AND s.task = ? AND s.state = 'running'";

    /** Thrown when a write finds that the task's lease now belongs to another runner. */
    public static final class LeaseLost extends RuntimeException {
        public LeaseLost(String message) {
            super(message);
        }
    }

    /** True while anything is left to do: a ready shard below the latest version, or a task running anywhere. */
    public boolean outstandingWork(int maxVersion) {
        return sql(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT EXISTS (SELECT 1 FROM shards WHERE state = 'running')"
                    + " OR EXISTS (SELECT 1 FROM shards WHERE state = 'ready' AND version < ?"
                    + " AND (targetVersion IS NULL OR version < targetVersion))"
                    + " OR EXISTS (SELECT 1 FROM shards WHERE state = 'ready' AND targetVersion IS NOT NULL"
                    + " AND version > targetVersion)")) {
                ps.setInt(1, maxVersion);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getBoolean(1);
                }
            }
        });
    }

    // ---- runs ---------------------------------------------------------------------------------------------

    /**
     * Opens the next run's log row. On a takeover the previous run, left 'running' by a runner that stopped
     * heartbeating, is closed as stalled first.
     */
    public int startRun(Lease lease, String runner, String message) {
        return sql(c -> {
            closeStalledRun(c, lease, "taken over by " + runner);
            int run = queryInt(c, "SELECT COALESCE(MAX(run), 0) + 1 FROM log WHERE shardId = ? AND version = ?",
                    lease.shardId(), lease.targetVersion());
            if (run > 255) {
                // log.run is a tinyint: a task that stalled this often needs a DBA, not another run.
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE shards SET state = 'failed', task = NULL WHERE shardId = ? AND task = ?")) {
                    ps.setLong(1, lease.shardId());
                    ps.setString(2, lease.token());
                    ps.executeUpdate();
                }
                throw new LeaseLost("all 255 runs of version " + lease.targetVersion() + " are used; shard marked failed");
            }
            // The row is written only while the lease is ours: one statement, no transaction.
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO log (shardId, version, run, state, runner,"
                    + " message, down, startedAt) SELECT ?, ?, ?, ?, ?, ?, ?, NOW(3) FROM shards s WHERE " + LEASE_HELD)) {
                ps.setLong(1, lease.shardId());
                ps.setInt(2, lease.targetVersion());
                ps.setInt(3, run);
                ps.setString(4, Run.RUNNING);
                ps.setString(5, runner);
                ps.setString(6, message);
                ps.setBoolean(7, lease.down());
                ps.setLong(8, lease.shardId());
                ps.setString(9, lease.token());
                if (ps.executeUpdate() == 0) {
                    throw new LeaseLost("another runner took the task over before its run started");
                }
            }
            return run;
        });
    }

    /** An earlier run whose outcome is unknown, and the table's definition it recorded before it executed. */
    public record UncertainRun(int run, String tableBefore) {
    }

    /**
     * The latest earlier run of this task that started executing, when its outcome is unknown (its runner stalled,
     * the connection broke, or a failure came after the change ran): the change may have landed, and its record
     * tells whether. The task's runs are those after the last run that ended a task of this version (applied,
     * already applied or baselined, in either direction). Earlier runs than the one found need no look: the run
     * that recorded after them held the shard's fence, so their sessions had ended before it judged the table. A
     * failed run changed nothing: a run ends failed after it recorded only when the server refused its statement.
     */
    public Optional<UncertainRun> uncertainRun(long shardId, int version, int currentRun) {
        return sql(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT state, run, tableBefore FROM log"
                    + " WHERE shardId = ? AND version = ? AND run < ? AND tableBefore IS NOT NULL"
                    + " AND run > (SELECT COALESCE(MAX(e.run), 0) FROM log e WHERE e.shardId = ? AND e.version = ?"
                    + " AND e.state IN (?, ?, ?)) ORDER BY run DESC LIMIT 1")) {
                ps.setLong(1, shardId);
                ps.setInt(2, version);
                ps.setInt(3, currentRun);
                ps.setLong(4, shardId);
                ps.setInt(5, version);
                ps.setString(6, Run.APPLIED);
                ps.setString(7, Run.ALREADY_APPLIED);
                ps.setString(8, Run.BASELINED);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next() || rs.getString(1).equals(Run.FAILED)) {
                        return Optional.empty();
                    }
                    return Optional.of(new UncertainRun(rs.getInt(2), rs.getString(3)));
                }
            }
        });
    }

    /**
     * Written, under the lease, right before the change executes, so that a later run knows what was run, on which
     * connection, and what the table looked like. False (and nothing written) when the lease is no longer ours.
     */
    public boolean recordExecuting(Lease lease, int run, String executed, String tableBefore, long shardConnection) {
        return sql(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE log l JOIN shards s ON s.shardId = l.shardId"
                    + " SET l.executed = ?, l.tableBefore = ?, l.shardConnection = ?"
                    + " WHERE l.shardId = ? AND l.version = ? AND l.run = ? AND " + LEASE_HELD)) {
                ps.setString(1, executed);
                ps.setString(2, tableBefore);
                ps.setLong(3, shardConnection);
                ps.setLong(4, lease.shardId());
                ps.setInt(5, lease.targetVersion());
                ps.setInt(6, run);
                ps.setLong(7, lease.shardId());
                ps.setString(8, lease.token());
                return ps.executeUpdate() > 0;
            }
        });
    }

    /**
     * Closes a successful run and moves the shard to the target version, in one statement fenced by the lease.
     * With {@code continueWith} &gt; 0 the lease is kept for that next version (the worker goes on with the same
     * shard); with 0 the shard is handed back. Returns false (and moves nothing) when the lease was lost.
     */
    public boolean finishApplied(Lease lease, int run, RunEnding ending, int continueWith) {
        return sql(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE shards s JOIN log l"
                    + " ON l.shardId = s.shardId AND l.version = ? AND l.run = ?"
                    + " SET s.version = ?, s.state = IF(? > 0, 'running', 'ready'), s.task = IF(? > 0, s.task, NULL),"
                    + " s.attempts = 0, s.retryAt = NULL, s.lastTaskHb = NOW(),"
                    + " l.state = ?, l.message = ?, l.output = ?, l.err = NULL, l.fingerprint = ?,"
                    + " l.finishedAt = NOW(3) WHERE " + LEASE_HELD)) {
                ps.setInt(1, lease.targetVersion());
                ps.setInt(2, run);
                ps.setInt(3, lease.resultVersion());
                ps.setInt(4, continueWith);
                ps.setInt(5, continueWith);
                ps.setString(6, ending.state());
                ps.setString(7, ending.message());
                ps.setString(8, ending.output());
                ps.setString(9, ending.fingerprint());
                ps.setLong(10, lease.shardId());
                ps.setString(11, lease.token());
                if (ps.executeUpdate() > 0) {
                    return true;
                }
            }
            // The change is in place all the same: say so, so the holder's check finds it landed.
            updateRun(c, lease, run, new RunEnding(Run.UNKNOWN, ending.message() + "; the lease was lost meanwhile",
                    ending.output(), null, ending.fingerprint()));
            return false;
        });
    }

    /**
     * Closes a run that stopped at a gate of an online change: the shard waits (no runner claims it) until
     * {@code approve} or {@code cutover} makes it ready again. False when the lease was lost.
     */
    public boolean finishWaiting(Lease lease, int run, String message, String output) {
        return sql(c -> {
            // A gate opened (or a cancel came) while the run was deciding to wait: no wake-up may be lost.
            try (PreparedStatement ps = c.prepareStatement("UPDATE shards s JOIN log l"
                    + " ON l.shardId = s.shardId AND l.version = ? AND l.run = ?"
                    + " JOIN online o ON o.shardId = s.shardId AND o.version = l.version"
                    + " JOIN versions v ON v.version = o.version"
                    + " SET s.state = IF(" + OnlineCatalog.GATE_OPEN + ", 'ready', 'waiting'),"
                    + " s.task = NULL, s.attempts = 0, s.retryAt = NULL,"
                    + " l.state = ?, l.message = ?, l.output = ?, l.finishedAt = NOW(3) WHERE " + LEASE_HELD)) {
                ps.setInt(1, lease.targetVersion());
                ps.setInt(2, run);
                ps.setString(3, Run.WAITING);
                ps.setString(4, message);
                ps.setString(5, output);
                ps.setLong(6, lease.shardId());
                ps.setString(7, lease.token());
                return ps.executeUpdate() > 0;
            }
        });
    }

    /**
     * On a takeover, closes the run its runner left 'running' as stalled (under the new lease), saying {@code by}
     * whom it was taken over.
     */
    private static void closeStalledRun(Connection c, Lease lease, String by) throws SQLException {
        if (!lease.takeover()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE log l JOIN shards s ON s.shardId = l.shardId"
                + " SET l.state = ?, l.finishedAt = NOW(3), l.message = CONCAT(COALESCE(l.message, ''), ?)"
                + " WHERE l.shardId = ? AND l.version = ? AND l.state = ? AND " + LEASE_HELD)) {
            ps.setString(1, Run.STALLED);
            ps.setString(2, "; stalled: its runner stopped heartbeating, " + by);
            ps.setLong(3, lease.shardId());
            ps.setInt(4, lease.targetVersion());
            ps.setString(5, Run.RUNNING);
            ps.setLong(6, lease.shardId());
            ps.setString(7, lease.token());
            ps.executeUpdate();
        }
    }

    /**
     * Hands a claim back untouched, to be claimable again after {@code seconds} (its server is busy). A takeover
     * handed back still closes the dead run, which nobody else would.
     */
    public void postpone(Lease lease, String runner, int seconds) {
        sql(c -> {
            closeStalledRun(c, lease, "taken over by " + runner + ", which waits for a free online slot on its server");
            try (PreparedStatement ps = c.prepareStatement("UPDATE shards SET state = 'ready', task = NULL,"
                    + " retryAt = NOW() + INTERVAL ? SECOND WHERE shardId = ? AND task = ? AND state = 'running'")) {
                ps.setInt(1, seconds);
                ps.setLong(2, lease.shardId());
                ps.setString(3, lease.token());
                return ps.executeUpdate();
            }
        });
    }

    /** Writes the output a run produced so far (long online changes stream theirs while they run). */
    public void recordOutput(long shardId, int version, int run, String output) {
        sql(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE log SET output = ? WHERE shardId = ? AND version = ? AND run = ?")) {
                ps.setString(1, output);
                ps.setLong(2, shardId);
                ps.setInt(3, version);
                ps.setInt(4, run);
                return ps.executeUpdate();
            }
        });
    }

    /**
     * Closes a failed run; the task goes back to ready after a delay, or the shard is marked failed once it has
     * used {@code maxRuns} attempts. Returns the shard's new state ("ready", "failed", or "lost" without a lease).
     */
    public String finishFailed(Lease lease, int run, RunEnding ending, int maxRuns, int retryDelaySeconds) {
        return sql(c -> inTransaction(c, () -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE shards SET state = IF(attempts + 1 >= ?, 'failed', 'ready'),"
                    + " attempts = attempts + 1, task = NULL, retryAt = NOW() + INTERVAL ? SECOND"
                    + " WHERE shardId = ? AND task = ? AND state = 'running'")) {
                ps.setInt(1, maxRuns);
                ps.setInt(2, retryDelaySeconds);
                ps.setLong(3, lease.shardId());
                ps.setString(4, lease.token());
                if (ps.executeUpdate() == 0) {
                    updateRun(c, lease, run, new RunEnding(ending.state(), ending.message()
                            + "; the lease was lost meanwhile", ending.output(), ending.err(), ending.fingerprint()));
                    return "lost";
                }
            }
            boolean failed = lease.attempts() + 1 >= maxRuns;
            String full = ending.message() + (failed
                    ? "; attempt " + (lease.attempts() + 1) + " of " + maxRuns + ": shard marked failed at version "
                    + lease.fromVersion() + " until `shardschema retry --shard " + lease.shardId() + "`"
                    : "; attempt " + (lease.attempts() + 1) + " of " + maxRuns + ", retried in " + retryDelaySeconds + "s");
            updateRun(c, lease, run, new RunEnding(ending.state(), full, ending.output(), ending.err(),
                    ending.fingerprint()));
            return failed ? "failed" : "ready";
        }));
    }

    /**
     * Writes how a run ended. Its state changes only while it is 'running': a run that a takeover already closed as
     * stalled stays so (its outcome is for the next run to check), whatever its late runner says.
     */
    private static void updateRun(Connection c, Lease lease, int run, RunEnding ending) throws SQLException {
        // The message is set before the state (MariaDB assigns in order): it still sees the old state.
        try (PreparedStatement ps = c.prepareStatement("UPDATE log SET"
                + " message = IF(state = ?, ?, CONCAT(COALESCE(message, ''), '; then its runner said: ', ?)),"
                + " state = IF(state = ?, ?, state), output = ?, err = ?, fingerprint = ?,"
                + " finishedAt = COALESCE(finishedAt, NOW(3)) WHERE shardId = ? AND version = ? AND run = ?")) {
            ps.setString(1, Run.RUNNING);
            ps.setString(2, ending.message());
            ps.setString(3, ending.message());
            ps.setString(4, Run.RUNNING);
            ps.setString(5, ending.state());
            ps.setString(6, ending.output());
            ps.setString(7, ending.err());
            ps.setString(8, ending.fingerprint());
            ps.setLong(9, lease.shardId());
            ps.setInt(10, lease.targetVersion());
            ps.setInt(11, run);
            ps.executeUpdate();
        }
    }

    private static Run run(ResultSet rs) throws SQLException {
        return new Run(rs.getLong(1), rs.getInt(2), rs.getInt(3), rs.getString(4), rs.getString(5), rs.getString(6),
                rs.getString(7), rs.getString(8), rs.getString(9), instant(rs.getTimestamp(10)),
                instant(rs.getTimestamp(11)));
    }

    /** A shard's most recent run (highest version, then highest run), if it has any. */
    public Optional<Run> lastRun(long shardId) {
        return sql(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + RUN_COLUMNS + " FROM log WHERE shardId = ?"
                    + " ORDER BY version DESC, run DESC LIMIT 1")) {
                ps.setLong(1, shardId);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(run(rs)) : Optional.empty();
                }
            }
        });
    }

    public List<Run> runs(Long shardId, Integer version, int limit) {
        StringBuilder where = new StringBuilder(" WHERE 1 = 1");
        if (shardId != null) {
            where.append(" AND shardId = ?");
        }
        if (version != null) {
            where.append(" AND version = ?");
        }
        return sql(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + RUN_COLUMNS + " FROM log" + where
                    + " ORDER BY shardId, version, run LIMIT ?")) {
                int i = 1;
                if (shardId != null) {
                    ps.setLong(i++, shardId);
                }
                if (version != null) {
                    ps.setInt(i++, version);
                }
                ps.setInt(i, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    List<Run> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(run(rs));
                    }
                    return out;
                }
            }
        });
    }

    // ---- status -------------------------------------------------------------------------------------------

    /** Shard counts grouped by (version, state): one aggregate query. */
    public record StateCount(int version, String state, int shards) {
    }

    public List<StateCount> stateCounts() {
        return sql(c -> {
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT version, state, COUNT(*) FROM shards GROUP BY version, state ORDER BY version, state")) {
                List<StateCount> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(new StateCount(rs.getInt(1), rs.getString(2), rs.getInt(3)));
                }
                return out;
            }
        });
    }

    /**
     * A shard that stays where it is until a DBA acts: failed, or waiting at a gate of an online change.
     * {@code version} is the version its task is at (null: no version is registered above the shard's),
     * {@code lastRunState} how that task's last run ended (failed, drifted, refused, invalid, cancelled, waiting, ...;
     * null: no run), {@code phase} the online change's phase (awaiting approval, awaiting cut-over; null when the
     * change is not online). In JSON also {@code schema} (the same as {@code schemaName}, under the name every
     * report uses) and {@code server}.
     */
    public record HeldShard(long shardId, String schemaName, String server, Integer version, String lastRunState,
                            String phase) {
        @com.fasterxml.jackson.annotation.JsonProperty("schema")
        public String schema() {
            return schemaName;
        }

        @com.fasterxml.jackson.annotation.JsonIgnore
        public ShardName name() {
            return new ShardName(shardId, schemaName, server);
        }
    }

    /**
     * SQL over {@code shards s}: the version the shard's task is at, as a claim picks it (the shard's own when
     * `down` takes it below its pin, else the next registered version; numbers may have gaps).
     */
    private static final String TASK_VERSION = "IF(s.targetVersion IS NOT NULL AND s.version > s.targetVersion,"
            + " s.version, (SELECT MIN(v.version) FROM versions v WHERE v.version > s.version))";

    /** The shards in a state, each with its task's last run {@code l} (if any) and online task {@code o} (if any). */
    private static final String HELD_FROM = " FROM shards s LEFT JOIN log l ON l.shardId = s.shardId"
            + " AND l.version = " + TASK_VERSION + " AND l.run = (SELECT MAX(x.run) FROM log x"
            + " WHERE x.shardId = s.shardId AND x.version = l.version)"
            + " LEFT JOIN online o ON o.shardId = s.shardId AND o.version = " + TASK_VERSION + " WHERE s.state = ?";

    /**
     * Failed shards whose task's last run ended in {@code runState} (drifted, refused, ...; null: every failed
     * shard, however its run ended), lowest id first.
     */
    public List<HeldShard> failedBy(String runState, int limit) {
        return held("failed", runState, limit);
    }

    /** The shards waiting at a gate of an online change, with the version and phase, lowest id first. */
    public List<HeldShard> waiting(int limit) {
        return held("waiting", null, limit);
    }

    private List<HeldShard> held(String shardState, String runState, int limit) {
        return sql(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT s.shardId, s.schemaName, s.serverKey, "
                    + TASK_VERSION + ", l.state, o.phase" + HELD_FROM + (runState == null ? "" : " AND l.state = ?")
                    + " ORDER BY s.shardId LIMIT ?")) {
                int i = 1;
                ps.setString(i++, shardState);
                if (runState != null) {
                    ps.setString(i++, runState);
                }
                ps.setInt(i, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    List<HeldShard> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(new HeldShard(rs.getLong(1), rs.getString(2), rs.getString(3),
                                rs.getObject(4, Integer.class), rs.getString(5), rs.getString(6)));
                    }
                    return out;
                }
            }
        });
    }

    /** How many failed shards there are by how their task's last run ended (shards with no run are not counted). */
    public Map<String, Integer> failedCountsByRunState() {
        return sql(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT l.state, COUNT(*)" + HELD_FROM
                    + " AND l.state IS NOT NULL GROUP BY l.state")) {
                ps.setString(1, "failed");
                try (ResultSet rs = ps.executeQuery()) {
                    Map<String, Integer> out = new HashMap<>();
                    while (rs.next()) {
                        out.put(rs.getString(1), rs.getInt(2));
                    }
                    return out;
                }
            }
        });
    }

    /**
     * Marks a shard as being at {@code version} (its schema was found to be the expected one when the shard was at
     * {@code fromVersion}), with a log row that says so. Refused while a runner or a gate holds the shard, and when
     * the shard is no longer at {@code fromVersion}.
     */
    public void baseline(long shardId, int fromVersion, int version, String fingerprint) {
        sql(c -> inTransaction(c, () -> {
            // Only from the version the schema was checked at: a runner may have moved the shard since.
            try (PreparedStatement ps = c.prepareStatement("UPDATE shards SET version = ?, state = 'ready',"
                    + " attempts = 0, retryAt = NULL WHERE shardId = ? AND version = ? AND state IN ('ready', 'failed')")) {
                ps.setInt(1, version);
                ps.setLong(2, shardId);
                ps.setInt(3, fromVersion);
                if (ps.executeUpdate() == 0) {
                    throw new ShardSchemaException(ShardSchemaException.REFUSED, "shard " + shardId
                            + " is being worked by a runner, waits at a gate, or left version " + fromVersion
                            + " while its schema was checked; nothing was changed: try again when it is idle");
                }
            }
            logBaselined(c, shardId, version, fingerprint, "baselined at version " + version
                    + ": the schema is the one expected there");
            return null;
        }));
    }

    private static void logBaselined(Connection c, long shardId, int version, String fingerprint, String message)
            throws SQLException {
        int run = queryInt(c, "SELECT COALESCE(MAX(run), 0) + 1 FROM log WHERE shardId = ? AND version = ?",
                shardId, version);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO log (shardId, version, run, state, message,"
                + " fingerprint, startedAt, finishedAt) VALUES (?, ?, ?, ?, ?, ?, NOW(3), NOW(3))")) {
            ps.setLong(1, shardId);
            ps.setInt(2, version);
            ps.setInt(3, run);
            ps.setString(4, Run.BASELINED);
            ps.setString(5, message);
            ps.setString(6, fingerprint);
            ps.executeUpdate();
        }
    }

    /** How many shards `down` (or `up --to`) pinned at a version. */
    public int pinnedShards() {
        return sql(c -> queryInt(c, "SELECT COUNT(*) FROM shards WHERE targetVersion IS NOT NULL"));
    }

    /** A runner that was seen within the stall timeout: its name, pool size, since when, and the tasks it holds. */
    public record ActiveRunner(String runner, int workers, Instant startedAt, Instant lastSeen, int tasks) {
    }

    /** Records that a runner is alive (it calls this when it starts and on every heartbeat). */
    public void runnerAlive(String name, int workers) {
        sql(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO runners (name, workers) VALUES (?, ?)"
                    + " ON DUPLICATE KEY UPDATE lastSeen = CURRENT_TIMESTAMP(3), workers = VALUES(workers)")) {
                ps.setString(1, name);
                ps.setInt(2, workers);
                ps.executeUpdate();
            }
            return null;
        });
    }

    /** Removes a runner that ended, and runners that died without saying so more than a day ago. */
    public void runnerGone(String name) {
        sql(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "DELETE FROM runners WHERE name = ? OR lastSeen < NOW(3) - INTERVAL 1 DAY")) {
                ps.setString(1, name);
                ps.executeUpdate();
            }
            return null;
        });
    }

    /** The runners seen within {@code stallSeconds}, with the tasks each holds, most tasks first. */
    public List<ActiveRunner> activeRunners(int stallSeconds) {
        return sql(c -> {
            // Counted apart and joined here: comparing runners.name with shards.task in SQL would depend on the two
            // columns having one collation, which an upgraded catalog need not have.
            Map<String, Integer> tasks = new HashMap<>();
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT SUBSTRING_INDEX(task, '#', 1),"
                    + " COUNT(*) FROM shards WHERE state = 'running' AND task IS NOT NULL GROUP BY 1")) {
                while (rs.next()) {
                    tasks.put(rs.getString(1), rs.getInt(2));
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT name, workers, startedAt, lastSeen FROM runners"
                    + " WHERE lastSeen >= NOW(3) - INTERVAL ? SECOND")) {
                ps.setInt(1, stallSeconds);
                try (ResultSet rs = ps.executeQuery()) {
                    List<ActiveRunner> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(new ActiveRunner(rs.getString(1), rs.getInt(2), instant(rs.getTimestamp(3)),
                                instant(rs.getTimestamp(4)), tasks.getOrDefault(rs.getString(1), 0)));
                    }
                    out.sort(java.util.Comparator.comparingInt(ActiveRunner::tasks).reversed()
                            .thenComparing(ActiveRunner::runner));
                    return out;
                }
            }
        });
    }

    /** Tasks being worked now (heartbeat younger than {@code stallSeconds}), per server (host:port). */
    public Map<String, Integer> runningPerServer(int stallSeconds) {
        return sql(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT serverKey, COUNT(*) FROM shards WHERE state = 'running'"
                    + " AND lastTaskHb >= NOW() - INTERVAL ? SECOND GROUP BY serverKey ORDER BY serverKey")) {
                ps.setInt(1, stallSeconds);
                try (ResultSet rs = ps.executeQuery()) {
                    Map<String, Integer> out = new LinkedHashMap<>();
                    while (rs.next()) {
                        out.put(rs.getString(1), rs.getInt(2));
                    }
                    return out;
                }
            }
        });
    }

    /** A run that ended: which, how, and how long it took. */
    public record FinishedRun(long shardId, int version, int run, boolean down, String state, long millis,
                              Instant finishedAt) {
    }

    /** The catalog server's clock, the one {@code finishedAt} is written by. */
    public Instant now() {
        return sql(c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT NOW(3)")) {
                rs.next();
                return instant(rs.getTimestamp(1));
            }
        });
    }

    /**
     * The runs that ended at or after {@code since} and within the last {@code windowSeconds} (by the catalog's
     * clock), in the order they ended.
     */
    public List<FinishedRun> finishedRuns(Instant since, int windowSeconds) {
        return sql(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT shardId, version, run, down, state,"
                    + " TIMESTAMPDIFF(MICROSECOND, COALESCE(startedAt, finishedAt), finishedAt) DIV 1000, finishedAt"
                    + " FROM log WHERE finishedAt >= GREATEST(?, NOW(3) - INTERVAL ? SECOND) ORDER BY finishedAt")) {
                ps.setTimestamp(1, Timestamp.from(since));
                ps.setInt(2, windowSeconds);
                try (ResultSet rs = ps.executeQuery()) {
                    List<FinishedRun> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(new FinishedRun(rs.getLong(1), rs.getInt(2), rs.getInt(3), rs.getBoolean(4),
                                rs.getString(5), Math.max(0, rs.getLong(6)), instant(rs.getTimestamp(7))));
                    }
                    return out;
                }
            }
        });
    }

    public List<Shard> stalled(int stallSeconds, int limit) {
        return sql(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + SHARD_COLUMNS + " FROM shards WHERE state = 'running'"
                    + " AND lastTaskHb < NOW() - INTERVAL ? SECOND ORDER BY lastTaskHb LIMIT ?")) {
                ps.setInt(1, stallSeconds);
                ps.setInt(2, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    List<Shard> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(shard(rs));
                    }
                    return out;
                }
            }
        });
    }

    // ---- plumbing -----------------------------------------------------------------------------------------

    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    interface SqlWork<T> {
        T run(Connection c) throws SQLException;
    }

    private interface TxWork<T> {
        T run() throws SQLException;
    }

    private static <T> T inTransaction(Connection c, TxWork<T> work) throws SQLException {
        c.setAutoCommit(false);
        try {
            T result = work.run();
            c.commit();
            return result;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    /**
     * Runs catalog work on a pooled connection. A deadlock or lock wait timeout rolls the statement (or the
     * transaction) back whole, so the work is simply tried again, a few times, after a short random pause.
     */
    <T> T sql(SqlWork<T> work) {
        for (int attempt = 1; ; attempt++) {
            try (Connection c = ds.getConnection()) {
                return work.run(c);
            } catch (SQLException e) {
                boolean retryable = e.getErrorCode() == DEADLOCK || e.getErrorCode() == LOCK_WAIT_TIMEOUT;
                if (!retryable || attempt >= 10) {
                    throw ShardSchemaException.error("catalog " + dsn + ": " + DataSources.rootMessage(e), e);
                }
                try {
                    Thread.sleep(java.util.concurrent.ThreadLocalRandom.current().nextInt(5, 20 * attempt));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw ShardSchemaException.error("interrupted", ie);
                }
            }
        }
    }

    static Instant instant(Timestamp ts) {
        return ts == null ? null : ts.toInstant();
    }
}
