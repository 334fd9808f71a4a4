package io.shardschema.schema;

import io.shardschema.ShardSchemaException;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tries a change on copies of table definitions (no rows) in a scratch schema on a shard's server, so that the
 * server itself says whether it parses, what it changes, how it would run (INSTANT, INPLACE without a lock, INPLACE
 * with a lock, or a table copy), and whether a rollback brings the tables back. The scratch schema is always
 * dropped; its name carries its creation time and the session that made it, so that what a killed process left is
 * recognised (that session is gone) and dropped by the next preflight on the server.
 *
 * <p>The change and the rollback run as a temporary account granted nothing but the scratch schema, when this
 * account may make one: then, even if the statement check ({@code ChangeStatement.checkStaysInSchema}, which the
 * caller runs first) missed a way out, the server refuses to touch any other schema.
 */
public final class Preflight {
    public static final String SCRATCH_PREFIX = "_ss_scratch_";
    private static final Pattern SCRATCH = Pattern.compile(Pattern.quote(SCRATCH_PREFIX) + "(\\d+)_(\\d+)");
    private static final int ALGORITHM_NOT_SUPPORTED = 1845;
    private static final int LOCK_NOT_SUPPORTED = 1846;
    /** ER_SPECIFIC_ACCESS_DENIED_ERROR: the account lacks a global privilege such as CREATE USER. */
    private static final int ACCESS_DENIED = 1227;
    /** A preflight copies definitions only: one whose session we cannot see and this old was left by a dead one. */
    private static final long UNSEEN_AGE_SECONDS = 600;

    /** How the server would run an ALTER: the cheapest way it accepted on the scratch copy. */
    public enum Algorithm {
        INSTANT, INPLACE, INPLACE_LOCKED, COPY, NOT_AN_ALTER;

        /** Whether writes to the table wait while the change runs: the guard's business. */
        public boolean blocksWrites() {
            return this == INPLACE_LOCKED || this == COPY;
        }
    }

    /**
     * What a preflight found. {@code error} is the server's error when the change failed; {@code rollbackDiff} is
     * null without a rollback, empty when the rollback restored the tables, else how they differ from before.
     * {@code noSandbox} is null when the change ran as the temporary account, else why it ran in this account's
     * own session.
     */
    public record Report(SchemaSnapshot before, SchemaSnapshot after, Algorithm algorithm, String error,
                         String rollback, String rollbackError, String rollbackDiff, List<String> removedLeftovers,
                         String noSandbox) {
        public String diff() {
            return before.diff(after, "before", "after");
        }

        public boolean changesNothing() {
            return error == null && before.text().equals(after.text());
        }

        public boolean rollbackRestores() {
            return rollbackError == null && "".equals(rollbackDiff);
        }
    }

    /** The rollback to try after the change, chosen once the change's result is known; null for none. */
    public interface RollbackChoice {
        RollbackChoice NONE = (before, after) -> null;

        String statement(SchemaSnapshot before, SchemaSnapshot after);
    }

    /** Opens a session on the same server as another account, in {@code database}; fails with a message. */
    public interface Login {
        Connection open(String user, String password, String database);
    }

    private Preflight() {
    }

    /**
     * Creates {@code tables} (name to definition, as {@link SchemaSnapshot} reads them) in a scratch schema, runs
     * {@code statement} there ({@code ChangeStatement.sql} of the version), then the rollback {@code rollbacks}
     * chooses, if any. {@code login} opens the temporary account's session.
     */
    public static Report run(Connection c, Login login, SortedMap<String, String> tables, String statement,
                             boolean isAlter, RollbackChoice rollbacks) throws SQLException {
        List<String> removed = removeLeftovers(c);
        String scratch = SCRATCH_PREFIX + serverNow(c) + "_" + c.unwrap(org.mariadb.jdbc.Connection.class).getThreadId();
        String previousDb = c.getCatalog();
        try (Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + Sql.quote(scratch));
            try {
                c.setCatalog(scratch);
                // Definitions as the server printed them, foreign keys included: checks off, so any order works.
                // They are the shard's own (or the catalog's record of them), so they are made in this session:
                // a foreign key to another schema would be refused to the temporary account.
                s.execute("SET SESSION foreign_key_checks = 0");
                for (Map.Entry<String, String> t : tables.entrySet()) {
                    if (!t.getValue().equals(TableDefinition.ABSENT)) {
                        makeAgain(s, t.getKey(), t.getValue());
                    }
                }
                try (Sandbox sandbox = Sandbox.open(c, login, scratch);
                     Statement change = (sandbox.session != null ? sandbox.session : c).createStatement()) {
                    // The driver's own {escape} rewriting reads comments and quotes its own way: send the text as is.
                    change.setEscapeProcessing(false);
                    change.execute("SET SESSION foreign_key_checks = 0");
                    return tryChange(c, scratch, change, statement, isAlter, rollbacks, removed, sandbox.refusal);
                }
            } finally {
                c.setCatalog(previousDb);
                s.execute("SET SESSION foreign_key_checks = DEFAULT");
                s.execute("DROP DATABASE IF EXISTS " + Sql.quote(scratch));
            }
        }
    }

    /**
     * The preflight's copy of a table. A definition the server takes from no session under its sql_mode (a
     * zero-date default under NO_ZERO_DATE, for example) is the table's own problem, not the change's or the
     * shard's: said as such.
     */
    private static void makeAgain(Statement s, String table, String definition) throws SQLException {
        try {
            s.execute(definition);
        } catch (SQLException e) {
            if (!DEFINITION_ERRORS.contains(e.getErrorCode())) {
                throw e;
            }
            String sqlMode;
            try (ResultSet rs = s.executeQuery("SELECT @@SESSION.sql_mode")) {
                sqlMode = rs.next() ? rs.getString(1) : "?";
            }
            throw new DefinitionRefused("the table " + Sql.quote(table) + " as it is defined (before the change)"
                    + " cannot be created again on this server under sql_mode '" + sqlMode + "': " + e.getMessage()
                    + "\n  this is the table's own definition, not the change (a zero-date default under a strict"
                    + " sql_mode, for example): fix the definition on the shards, or add the version with"
                    + " --no-preflight", e);
        }
    }

    /**
     * Errors that mean the definition itself is not accepted here: an invalid default (1067), a BLOB default
     * (1101), a key or row too long (1071, 1118), a column too long (1074), an unknown engine, character set or
     * collation (1286, 1115, 1273), a syntax the server does not take (1064).
     */
    private static final java.util.Set<Integer> DEFINITION_ERRORS = java.util.Set.of(1067, 1101, 1071, 1118, 1074,
            1286, 1115, 1273, 1064);

    /** The starting tables cannot be made in the scratch schema: their definitions are at fault. */
    public static final class DefinitionRefused extends ShardSchemaException {
        DefinitionRefused(String message, Throwable cause) {
            super(ShardSchemaException.REFUSED, message, cause);
        }
    }

    private static Report tryChange(Connection c, String scratch, Statement change, String statement, boolean isAlter,
                                    RollbackChoice rollbacks, List<String> removed, String noSandbox)
            throws SQLException {
        SchemaSnapshot before = SchemaSnapshot.read(c, scratch, null);
        Algorithm algorithm = null;
        String error = null;
        try {
            algorithm = isAlter ? alter(change, statement) : execute(change, statement);
        } catch (SQLException e) {
            error = describe(e);
        }
        SchemaSnapshot after = SchemaSnapshot.read(c, scratch, null);
        String rollbackError = null;
        String rollbackDiff = null;
        String rollback = error == null ? rollbacks.statement(before, after) : null;
        if (rollback != null) {
            try {
                change.execute(rollback);
                rollbackDiff = before.diff(SchemaSnapshot.read(c, scratch, null), "before", "after rollback");
            } catch (SQLException e) {
                rollbackError = describe(e);
            }
        }
        return new Report(before, after, algorithm, error, rollback, rollbackError, rollbackDiff, removed, noSandbox);
    }

    /**
     * A session as a temporary account granted all privileges on the scratch schema and nothing else, named like
     * the scratch schema (so a killed preflight's account is dropped with its schema), with a random password that
     * is never shown. Needs CREATE USER and GRANT OPTION; without them, or when the account cannot log in (a proxy
     * that does not know it, an authentication it cannot use), {@code session} is null and {@code refusal} says why.
     */
    private static final class Sandbox implements AutoCloseable {
        private static final SecureRandom RANDOM = new SecureRandom();
        private static final String ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        private final Connection own;
        private final String user;
        private final String host;
        private Connection session;
        private String refusal;

        private Sandbox(Connection own, String user, String host) {
            this.own = own;
            this.user = user;
            this.host = host;
        }

        static Sandbox open(Connection own, Login login, String scratch) throws SQLException {
            Sandbox sandbox = new Sandbox(own, scratch, accountHost(own));
            String password = password();
            try {
                // Bound values: the driver writes them as quoted strings, which these statements take as names.
                try (PreparedStatement create = own.prepareStatement("CREATE USER ?@? IDENTIFIED BY ?")) {
                    create.setString(1, sandbox.user);
                    create.setString(2, sandbox.host);
                    create.setString(3, password);
                    create.execute();
                }
                // In GRANT, '_' in a schema name is a wildcard: escaped, the grant covers this schema only.
                try (PreparedStatement grant = own.prepareStatement("GRANT ALL PRIVILEGES ON "
                        + Sql.quote(scratch.replace("_", "\\_")) + ".* TO ?@?")) {
                    grant.setString(1, sandbox.user);
                    grant.setString(2, sandbox.host);
                    grant.execute();
                }
                sandbox.session = login.open(sandbox.user, password, scratch);
            } catch (SQLException | ShardSchemaException e) {
                sandbox.refusal = "no temporary account confined to the scratch schema: "
                        + e.getMessage().replaceFirst("^\\(conn=\\d+\\) ", "");
            }
            return sandbox;
        }

        /** 32 letters and digits, and one of each kind a password-strength plugin may ask for. */
        private static String password() {
            StringBuilder sb = new StringBuilder("Aa1-");
            for (int i = 0; i < 32; i++) {
                sb.append(ALPHANUMERIC.charAt(RANDOM.nextInt(ALPHANUMERIC.length())));
            }
            return sb.toString();
        }

        @Override
        public void close() throws SQLException {
            if (session != null) {
                session.close();
            }
            dropAccount(own, user, host);
        }
    }

    /** The host part of this session's account: the temporary account is let in from where this one is. */
    private static String accountHost(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT CURRENT_USER()")) {
            rs.next();
            String account = rs.getString(1);
            return account.substring(account.lastIndexOf('@') + 1);
        }
    }

    private static void dropAccount(Connection c, String user, String host) throws SQLException {
        try (PreparedStatement drop = c.prepareStatement("DROP USER IF EXISTS ?@?")) {
            drop.setString(1, user);
            drop.setString(2, host);
            drop.execute();
        } catch (SQLException e) {
            if (e.getErrorCode() != ACCESS_DENIED) {
                throw e;
            }
            // An account that may not drop users made none.
        }
    }

    private static String describe(SQLException e) {
        return "ERROR " + e.getErrorCode() + " (" + e.getSQLState() + "): "
                + e.getMessage().replaceFirst("^\\(conn=\\d+\\) ", "");
    }

    /**
     * Tries the ALTER with ALGORITHM=INSTANT, then INPLACE with LOCK=NONE, then INPLACE with whatever lock it needs,
     * then as it is (a copy). Each try that the server refuses for its algorithm or lock changed nothing.
     */
    private static Algorithm alter(Statement s, String statement) throws SQLException {
        Map<Algorithm, String> tries = new java.util.LinkedHashMap<>();
        tries.put(Algorithm.INSTANT, ", ALGORITHM=INSTANT");
        tries.put(Algorithm.INPLACE, ", ALGORITHM=INPLACE, LOCK=NONE");
        tries.put(Algorithm.INPLACE_LOCKED, ", ALGORITHM=INPLACE");
        for (Map.Entry<Algorithm, String> t : tries.entrySet()) {
            try {
                // On a line of its own: a trailing "-- comment" in the change must not swallow it.
                s.execute(statement + "\n" + t.getValue());
                return t.getKey();
            } catch (SQLException e) {
                if (e.getErrorCode() != ALGORITHM_NOT_SUPPORTED && e.getErrorCode() != LOCK_NOT_SUPPORTED) {
                    // Not "this algorithm is not supported": the change itself is wrong.
                    throw e;
                }
            }
        }
        s.execute(statement);
        return Algorithm.COPY;
    }

    private static Algorithm execute(Statement s, String statement) throws SQLException {
        s.execute(statement);
        return Algorithm.NOT_AN_ALTER;
    }

    /** The server's clock in epoch seconds: scratch names are compared with the server's start time. */
    private static long serverNow(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT UNIX_TIMESTAMP()")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * Drops the scratch schemas whose session is gone (the preflight that made it was killed before it cleaned
     * up), and those older than the server's start (the session id may have been reused since). Without the
     * PROCESS privilege other sessions are invisible, so then only schemas older than {@link #UNSEEN_AGE_SECONDS}
     * count as left over.
     */
    static List<String> removeLeftovers(Connection c) throws SQLException {
        List<String> removed = new ArrayList<>();
        List<String> candidates = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?")) {
            ps.setString(1, SCRATCH_PREFIX.replace("_", "\\_") + "%");
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    candidates.add(rs.getString(1));
                }
            }
        }
        if (candidates.isEmpty()) {
            return removed;
        }
        long started;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT UNIX_TIMESTAMP() - VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'UPTIME'")) {
            rs.next();
            started = rs.getLong(1);
        }
        boolean seesAllSessions;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1 FROM"
                + " information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE = 'PROCESS'")) {
            seesAllSessions = rs.next();
        }
        long now = serverNow(c);
        String host = accountHost(c);
        try (Statement s = c.createStatement();
             PreparedStatement alive = c.prepareStatement("SELECT 1 FROM information_schema.PROCESSLIST WHERE ID = ?")) {
            for (String name : candidates) {
                Matcher m = SCRATCH.matcher(name);
                if (!m.matches()) {
                    continue;
                }
                alive.setLong(1, Long.parseLong(m.group(2)));
                boolean sessionAlive;
                try (ResultSet rs = alive.executeQuery()) {
                    sessionAlive = rs.next();
                }
                long created = Long.parseLong(m.group(1));
                boolean gone = seesAllSessions ? !sessionAlive : now - created > UNSEEN_AGE_SECONDS;
                if (gone || created < started) {
                    dropAccount(c, name, host);
                    s.execute("DROP DATABASE IF EXISTS " + Sql.quote(name));
                    removed.add(name);
                }
            }
        }
        return removed;
    }
}
