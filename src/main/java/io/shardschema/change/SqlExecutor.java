package io.shardschema.change;

import io.shardschema.catalog.Version;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** cmdType 'sql': runs the statement directly on the shard. */
public final class SqlExecutor implements ChangeExecutor {

    @Override
    public String describe(Version version) {
        return ChangeStatement.sql(version.tableName(), version.command());
    }

    @Override
    public ExecutionResult apply(Connection shard, Version version) throws SQLException {
        long start = System.nanoTime();
        try (Statement s = shard.createStatement()) {
            s.execute(describe(version));
            long rows = Math.max(0, s.getLargeUpdateCount());
            long millis = (System.nanoTime() - start) / 1_000_000;
            List<String> warnings = new ArrayList<>();
            try {
                // Asks the server (SHOW WARNINGS): the change is done by now, so a failure here must not look like
                // the change's own.
                for (SQLWarning w = s.getWarnings(); w != null; w = w.getNextWarning()) {
                    warnings.add(w.getErrorCode() + ": " + w.getMessage());
                }
            } catch (SQLException e) {
                warnings.add("the warnings could not be read: " + e.getMessage());
            }
            return new ExecutionResult(rows, warnings, millis);
        }
    }
}
