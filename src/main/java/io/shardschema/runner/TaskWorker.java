package io.shardschema.runner;

import io.shardschema.catalog.Catalog;
import io.shardschema.catalog.Lease;
import io.shardschema.catalog.Run;
import io.shardschema.catalog.Version;
import io.shardschema.change.ChangeExecutor;
import io.shardschema.change.ChangeExecutor.ExecutionResult;
import io.shardschema.config.Config;
import io.shardschema.config.DataSources;
import io.shardschema.schema.TableDefinition;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Works one claimed task: opens a run, checks whether an interrupted earlier run already landed the change,
 * applies it, validates it, and closes the run and the task. Every end of a task is written through the lease.
 */
final class TaskWorker {

    /** How a task ended, for the runner's summary and progress. */
    enum Outcome { APPLIED, ALREADY_APPLIED, RETRY_LATER, FAILED, LEASE_LOST }

    private final Catalog catalog;
    private final ShardConnections shards;
    private final Map<String, ChangeExecutor> executors;
    private final Function<Integer, Version> versions;
    private final Config config;
    private final String runnerName;
    private final CatalogTimer timer;

    TaskWorker(Catalog catalog, ShardConnections shards, Map<String, ChangeExecutor> executors,
               Function<Integer, Version> versions, Config config, String runnerName, CatalogTimer timer) {
        this.catalog = catalog;
        this.shards = shards;
        this.executors = executors;
        this.versions = versions;
        this.config = config;
        this.runnerName = runnerName;
        this.timer = timer;
    }

    Outcome work(Lease lease, BooleanSupplier leaseHeld) {
        Version version = versions.apply(lease.targetVersion());
        int run = timer.time(() -> catalog.startRun(lease, runnerName, "started by " + runnerName
                + (lease.takeover() ? " after taking over a stalled task" : "")));
        ChangeExecutor executor = executors.get(version.type());
        if (executor == null) {
            return fail(lease, run, Run.FAILED, "cmdType '" + version.type() + "' cannot be applied by this build",
                    null, "no executor for cmdType " + version.type());
        }
        boolean executing = false;
        String output = null;
        try (Connection c = shards.connect(lease.shardDsn(), lease.schemaName())) {
            String schema = c.getCatalog();
            String tableNow = TableDefinition.read(c, schema, version.tableName());
            // Run 1 has no earlier run whose outcome could be uncertain: no need to ask the catalog.
            var before = run == 1 ? Optional.<String>empty()
                    : timer.time(() -> catalog.uncertainTableBefore(lease.shardId(), version.number(), run));
            if (before.isPresent() && !before.get().equals(tableNow)) {
                // An interrupted run landed the change before its outcome was recorded: record it, never re-apply.
                validate(c, version);
                return finish(lease, run, Run.ALREADY_APPLIED, "already applied: table " + version.tableName()
                        + " changed since the interrupted earlier run read it, so that run's change landed", null);
            }
            if (!leaseHeld.getAsBoolean()) {
                return fail(lease, run, Run.FAILED, "lease lost before executing; nothing was run", null, null);
            }
            String statement = executor.describe(version);
            timer.time(() -> {
                catalog.recordExecuting(lease, run, statement, tableNow);
                return null;
            });
            executing = true;
            ExecutionResult result = executor.apply(c, version);
            output = result.render();
            executing = false;
            validate(c, version);
            return finish(lease, run, Run.APPLIED, "applied", output);
        } catch (ValidationFailed e) {
            return fail(lease, run, Run.INVALID, "validation failed: " + e.getMessage(), output, e.getMessage());
        } catch (SQLException e) {
            boolean uncertain = executing && isConnectionLoss(e);
            String err = describe(e);
            return fail(lease, run, uncertain ? Run.UNKNOWN : Run.FAILED,
                    (uncertain ? "connection lost while executing; the next run checks whether it landed: "
                            : "failed: ") + firstLine(err), output, err);
        }
    }

    private Outcome finish(Lease lease, int run, String state, String message, String output) {
        boolean held = timer.time(() -> catalog.finishApplied(lease, run, state, message, output));
        if (!held) {
            return Outcome.LEASE_LOST;
        }
        return state.equals(Run.ALREADY_APPLIED) ? Outcome.ALREADY_APPLIED : Outcome.APPLIED;
    }

    private Outcome fail(Lease lease, int run, String state, String message, String output, String err) {
        int delay = (int) Math.min(3600L, (long) config.retryDelaySeconds() << Math.min(lease.attempts(), 10));
        String shardState = timer.time(() -> catalog.finishFailed(lease, run, state, message, output, err,
                config.maxRuns(), delay));
        return switch (shardState) {
            case "failed" -> Outcome.FAILED;
            case "lost" -> Outcome.LEASE_LOST;
            default -> Outcome.RETRY_LATER;
        };
    }

    private static void validate(Connection c, Version version) throws SQLException {
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

    private static final class ValidationFailed extends SQLException {
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
