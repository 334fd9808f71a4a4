package io.shardschema.runner;

import io.shardschema.catalog.Catalog;
import io.shardschema.catalog.Lease;
import io.shardschema.catalog.Run;
import io.shardschema.catalog.RunEnding;
import io.shardschema.catalog.Version;
import io.shardschema.change.ChangeExecutor.ExecutionResult;
import io.shardschema.change.SqlExecutor;
import io.shardschema.config.Config;
import io.shardschema.config.DataSources;
import io.shardschema.change.ChangeStatement;
import io.shardschema.schema.Preflight;
import io.shardschema.schema.SchemaSnapshot;
import io.shardschema.schema.TableDefinition;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.IntUnaryOperator;

/**
 * Works one claimed task: opens a run, checks whether an interrupted earlier run already landed the change,
 * applies it, validates it, and closes the run and the task. Every end of a task is written through the lease.
 */
final class TaskWorker {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(TaskWorker.class);
    /** How long a claim waits when its server already runs onlinePerServer online changes. */
    private static final int POSTPONE_SECONDS = 5;

    /** How a task ended, for the runner's summary and progress. */
    enum Outcome { APPLIED, ALREADY_APPLIED, RETRY_LATER, FAILED, REFUSED, LEASE_LOST, WAITING, POSTPONED }

    /** How a task ended, and the lease for the shard's next version when the worker goes on with that shard. */
    record Result(Outcome outcome, Lease next) {
        Result(Outcome outcome) {
            this(outcome, null);
        }
    }

    private final Catalog catalog;
    private final ShardConnections shards;
    private final SqlExecutor sql = new SqlExecutor();
    private final OnlineChange online;
    private final Function<Integer, Version> versions;
    private final Config config;
    private final String runnerName;
    private final CatalogTimer timer;

    TaskWorker(Catalog catalog, ShardConnections shards, OnlineChange online,
               Function<Integer, Version> versions, Config config, String runnerName, CatalogTimer timer) {
        this.catalog = catalog;
        this.shards = shards;
        this.online = online;
        this.versions = versions;
        this.config = config;
        this.runnerName = runnerName;
        this.timer = timer;
    }

    /**
     * Works the task. After a success, {@code continuation} tells (from the version just applied) which version the
     * worker goes on with under the same lease, or 0 to hand the shard back.
     */
    Result work(Lease lease, BooleanSupplier leaseHeld, IntUnaryOperator continuation) {
        Version version = versions.apply(lease.targetVersion());
        if (lease.down()) {
            version = version.rollbackChange();
        }
        Connection slot = null;
        if (version.isOnline()) {
            try {
                slot = online.reserve(lease, version.tableName()).orElse(null);
                if (slot == null) {
                    timer.time(() -> {
                        catalog.postpone(lease, runnerName, POSTPONE_SECONDS);
                        return null;
                    });
                    return new Result(Outcome.POSTPONED);
                }
            } catch (SQLException e) {
                // The shard's server is unreachable: the run below records the failure and counts the attempt.
            }
        }
        try {
            return run(lease, version, slot, leaseHeld, continuation);
        } finally {
            if (slot != null) {
                OnlineChange.release(slot);
            }
        }
    }

    private Result run(Lease lease, Version version, Connection slot, BooleanSupplier leaseHeld,
                       IntUnaryOperator continuation) {
        int run;
        try {
            run = timer.time(() -> catalog.startRun(lease, runnerName, "started by " + runnerName
                    + (lease.takeover() ? " after taking over a stalled task" : "")));
        } catch (Catalog.LeaseLost e) {
            log.warn("shard {} version {}: {}", lease.shardId(), lease.targetVersion(), e.getMessage());
            return new Result(Outcome.LEASE_LOST);
        }
        RunEnding ending = attemptAny(lease, run, version, slot, leaseHeld);
        return switch (ending.state()) {
            case Run.APPLIED, Run.ALREADY_APPLIED -> finish(lease, run, ending, next(lease, continuation));
            case Run.WAITING -> new Result(timer.time(() -> catalog.finishWaiting(lease, run, ending.message(),
                    ending.output())) ? Outcome.WAITING : Outcome.LEASE_LOST);
            // A cancelled, drifted or refused change would end the same way again: its shard is failed at once,
            // until a DBA retries it.
            case Run.CANCELLED, Run.DRIFTED -> new Result(fail(lease, run, ending, lease.attempts() + 1));
            case Run.REFUSED -> new Result(fail(lease, run, ending, lease.attempts() + 1) == Outcome.FAILED
                    ? Outcome.REFUSED : Outcome.LEASE_LOST);
            default -> new Result(fail(lease, run, ending, config.maxRuns()));
        };
    }

    /** The version the worker goes on with under the same lease, or 0 to hand the shard back. */
    private static int next(Lease lease, IntUnaryOperator continuation) {
        int next = lease.down() ? 0 : continuation.applyAsInt(lease.targetVersion());
        return lease.mayContinueWith(next) ? next : 0;
    }

    private RunEnding attemptAny(Lease lease, int run, Version version, Connection slot, BooleanSupplier leaseHeld) {
        try {
            return version.isOnline() ? onlineAttempt(lease, run, version, slot, leaseHeld)
                    : attempt(lease, run, version, leaseHeld);
        } catch (RuntimeException e) {
            // Not the shard's error but ours (a DSN that no longer parses, a missing key file, ...): still a
            // failed run, so attempts count and the shard ends failed instead of being retried for ever.
            return new RunEnding(Run.FAILED, "failed: " + e.getMessage(), null, e.toString());
        }
    }

    private RunEnding onlineAttempt(Lease lease, int run, Version version, Connection slot, BooleanSupplier leaseHeld) {
        if (slot == null) {
            return new RunEnding(Run.FAILED, "failed: cannot connect to the shard's server", null, null);
        }
        try {
            return online.advance(lease, run, version, slot, leaseHeld);
        } catch (SQLException e) {
            String err = describe(e);
            return new RunEnding(Run.FAILED, "failed: " + firstLine(err), null, err);
        } catch (java.io.IOException e) {
            return new RunEnding(Run.FAILED, "failed: " + e.getMessage(), null, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new RunEnding(Run.FAILED, "interrupted", null, e.toString());
        }
    }


    /** How far a sql run got: what its failure can mean. */
    private enum Stage { CHECKING, EXECUTING, EXECUTED }

    /**
     * A sql run: takes the shard's fence (so no earlier run's statement can land any more), finds out whether an
     * interrupted earlier run landed the change, records under the lease that it executes, executes, checks.
     */
    private RunEnding attempt(Lease lease, int run, Version version, BooleanSupplier leaseHeld) {
        String statement = sql.describe(version);
        Stage stage = Stage.CHECKING;
        String output = null;
        try (Connection c = shards.connect(lease.shardDsn(), lease.schemaName())) {
            String fence = LockNames.task(catalog.id(), lease.shardId());
            long session = ShardFence.take(c, fence, statement, leaseHeld);
            try {
                String schema = c.getCatalog();
                // Run 1 has no earlier run whose outcome could be uncertain: no need to ask the catalog.
                Optional<Catalog.UncertainRun> earlier = run == 1 ? Optional.empty()
                        : timer.time(() -> catalog.uncertainRun(lease.shardId(), version.number(), run));
                String tableNow = TableDefinition.read(c, schema, version.tableName());
                if (earlier.isPresent() && landed(version, tableNow, earlier.get())) {
                    // The interrupted run landed the change before its outcome was recorded: never re-apply.
                    return checked(c, schema, version, new RunEnding(Run.ALREADY_APPLIED, "already applied: table "
                            + version.tableName() + " changed since run " + earlier.get().run()
                            + " read it, so that run's change landed", null, null));
                }
                Optional<String> refusal = guard(c, schema, version);
                if (refusal.isPresent()) {
                    return new RunEnding(Run.REFUSED, "refused: " + refusal.get(), null, refusal.get());
                }
                FreezePoint.BEFORE_RECORD.reach();
                // The lease is checked again now that the fence is ours: from here on no other run can execute.
                if (!leaseHeld.getAsBoolean()
                        || !timer.time(() -> catalog.recordExecuting(lease, run, statement, tableNow, session))) {
                    return new RunEnding(Run.FAILED, "lease lost before executing; nothing was run", null, null);
                }
                FreezePoint.AFTER_RECORD.reach();
                stage = Stage.EXECUTING;
                ExecutionResult result = sql.apply(c, version);
                stage = Stage.EXECUTED;
                output = result.render();
                FreezePoint.AFTER_EXECUTE.reach();
                return checked(c, schema, version, new RunEnding(Run.APPLIED, "applied", output, null));
            } finally {
                ShardFence.release(c, fence);
            }
        } catch (ShardFence.NotTaken e) {
            return new RunEnding(Run.FAILED, "failed: " + e.getMessage(), null, e.getMessage());
        } catch (SQLException e) {
            return ended(stage, describe(e), refused(e), isConnectionLoss(e), output);
        } catch (RuntimeException e) {
            // Ours, not the shard's (a DSN that no longer parses, a catalog write that failed): once the statement
            // may have run, only the next run's check can tell whether it landed.
            return ended(stage, e.toString(), false, false, output);
        }
    }

    /**
     * Whether the server refused the statement itself, so that it changed nothing: an error of the server's, but
     * not a lost connection, and not a killed or interrupted statement (SQLSTATE 70100), which may have committed
     * as the kill came, or (a DROP of several tables) done part of its work.
     */
    static boolean refused(SQLException e) {
        return e.getErrorCode() > 0 && !isConnectionLoss(e) && !"70100".equals(e.getSQLState());
    }

    /**
     * The ending of a sql run that broke off with {@code err}. A run counts as failed, changing nothing, only when
     * it never sent its statement or the server refused it; every other break after the statement was sent leaves
     * the next run to check whether it landed.
     */
    private static RunEnding ended(Stage stage, String err, boolean refused, boolean connectionLost, String output) {
        return switch (stage) {
            case CHECKING -> new RunEnding(Run.FAILED, "failed: " + firstLine(err), output, err);
            case EXECUTING -> refused
                    ? new RunEnding(Run.FAILED, "failed: " + firstLine(err), output, err)
                    : new RunEnding(Run.UNKNOWN, (connectionLost ? "connection lost while executing"
                    : "the statement broke off without an answer") + "; the next run checks whether it landed: "
                    + firstLine(err), output, err);
            // The change ran; only its validation could not: the next run must check, not re-apply.
            case EXECUTED -> new RunEnding(Run.INVALID, "the change ran but validating it failed: " + firstLine(err),
                    output, err);
        };
    }

    private Result finish(Lease lease, int run, RunEnding ending, int next) {
        boolean held = timer.time(() -> catalog.finishApplied(lease, run, ending, next));
        if (!held) {
            return new Result(Outcome.LEASE_LOST);
        }
        return new Result(ending.state().equals(Run.ALREADY_APPLIED) ? Outcome.ALREADY_APPLIED : Outcome.APPLIED,
                next > 0 ? lease.continueWith(next) : null);
    }

    private Outcome fail(Lease lease, int run, RunEnding ending, int maxRuns) {
        int delay = (int) Math.min(3600L, (long) config.retryDelaySeconds() << Math.min(lease.attempts(), 10));
        String shardState = timer.time(() -> catalog.finishFailed(lease, run, ending, maxRuns, delay));
        return switch (shardState) {
            case "failed" -> Outcome.FAILED;
            case "lost" -> Outcome.LEASE_LOST;
            default -> Outcome.RETRY_LATER;
        };
    }

    /**
     * Whether an interrupted earlier run's change is in place: the table has the result the preflight expected, or
     * (versions without one, and shards that had drifted) the table changed since that run read it.
     */
    private static boolean landed(Version version, String tableNow, Catalog.UncertainRun earlier) {
        return version.expected().known()
                && SchemaSnapshot.fingerprint(tableNow).equals(version.expected().tableFingerprint())
                || !tableNow.equals(earlier.tableBefore());
    }

    /**
     * Refuses an ALTER that blocks writes for its whole run (INPLACE with a lock, or a table copy, as the version's
     * preflight found) on a table with more rows than the guard allows, unless the version was added with --force.
     */
    private Optional<String> guard(Connection c, String schema, Version version) throws SQLException {
        String algorithm = version.expected().algorithm();
        if (version.force() || algorithm == null || ChangeStatement.isWholeStatement(version.command())) {
            return Optional.empty();
        }
        Preflight.Algorithm a = Preflight.Algorithm.valueOf(algorithm);
        if (!a.blocksWrites()) {
            return Optional.empty();
        }
        long limit = a == Preflight.Algorithm.COPY ? config.guardCopyRows() : config.guardTableRows();
        long rows;
        try (PreparedStatement ps = c.prepareStatement("SELECT TABLE_ROWS FROM information_schema.TABLES"
                + " WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?")) {
            ps.setString(1, schema);
            ps.setString(2, version.tableName());
            try (ResultSet rs = ps.executeQuery()) {
                rows = rs.next() ? rs.getLong(1) : 0;
            }
        }
        if (rows <= limit) {
            return Optional.empty();
        }
        return Optional.of("the change runs " + (a == Preflight.Algorithm.COPY ? "as a table copy" : "INPLACE with a lock")
                + ", blocking writes, and table " + version.tableName() + " has about " + rows + " rows, above "
                + (a == Preflight.Algorithm.COPY ? "guardCopyRows=" : "guardTableRows=") + limit
                + "; use a version of --type pt-osc, or add it again with --force");
    }

    /**
     * The checks after a change ran (or was found in place): the version's validation query, then the table against
     * the result its preflight expected. {@code done} is the ending when both pass, with the table's fingerprint.
     */
    static RunEnding checked(Connection c, String schema, Version version, RunEnding done) throws SQLException {
        try {
            validate(c, version);
        } catch (ValidationFailed e) {
            return new RunEnding(Run.INVALID, "validation failed: " + e.getMessage(), done.output(), e.getMessage());
        }
        String table = TableDefinition.read(c, schema, version.tableName());
        String fingerprint = SchemaSnapshot.fingerprint(table);
        if (version.expected().known() && !fingerprint.equals(version.expected().tableFingerprint())) {
            String expected = version.expected().schemaAfter().getOrDefault(version.tableName(), TableDefinition.ABSENT);
            String diff = TableDefinition.diff(expected, table, "expected after version " + version.number(),
                    "shard's " + version.tableName());
            return new RunEnding(Run.DRIFTED, "drifted: after the change, table " + version.tableName()
                    + " differs from the result its preflight expected (the shard's table was not as the fleet's);"
                    + " the diff is in err", done.output(), diff, fingerprint);
        }
        return new RunEnding(done.state(), done.message(), done.output(), done.err(), fingerprint);
    }

    /** Runs the version's validation query, if it has one; throws {@link ValidationFailed} on a wrong answer. */
    static void validate(Connection c, Version version) throws SQLException {
        if (!version.hasValidation()) {
            return;
        }
        String actual;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(version.validationQuery())) {
            actual = !rs.next() ? "(no rows)" : rs.getString(1) == null ? "NULL" : rs.getString(1);
        }
        String expected = version.validationExpected() == null ? "" : version.validationExpected().strip();
        if (!actual.strip().equals(expected)) {
            throw new ValidationFailed("query '" + version.validationQuery() + "' returned '" + actual
                    + "', expected '" + expected + "'");
        }
    }

    static final class ValidationFailed extends SQLException {
        ValidationFailed(String message) {
            super(message);
        }
    }

    static boolean isConnectionLoss(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLNonTransientConnectionException || t instanceof SQLTransientConnectionException) {
                return true;
            }
            if (t instanceof SQLException s && s.getSQLState() != null && s.getSQLState().startsWith("08")) {
                return true;
            }
        }
        return false;
    }

    /** The server's error as a DBA knows it: "ERROR 1060 (42S21): Duplicate column name 'c'". */
    static String describe(SQLException e) {
        if (e.getErrorCode() > 0) {
            return "ERROR " + e.getErrorCode() + " (" + e.getSQLState() + "): " + stripConnPrefix(e.getMessage());
        }
        // No server error code: a connection problem, whose real reason is at the bottom of the cause chain.
        String root = DataSources.rootMessage(e);
        return root.equals(e.getMessage()) ? root : e.getMessage() + ": " + root;
    }

    private static String stripConnPrefix(String message) {
        return message == null ? "" : message.replaceFirst("^\\(conn=\\d+\\) ", "");
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
