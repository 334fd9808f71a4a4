package io.shardschema.change;

import io.shardschema.catalog.Version;

import java.sql.Connection;
import java.sql.SQLException;

/** One way of applying a version to a shard (sql today; pt-osc and the online engine later). */
public interface ChangeExecutor {

    /** What the executor will run, recorded in the log before it starts. */
    String describe(Version version);

    /** Applies the version on a connection whose default schema is the shard's. */
    ExecutionResult apply(Connection shard, Version version) throws SQLException;

    /** Rows affected, warnings and duration: the run's output. */
    record ExecutionResult(long rowsAffected, java.util.List<String> warnings, long millis) {
        public String render() {
            StringBuilder sb = new StringBuilder("rows affected: ").append(rowsAffected)
                    .append("; duration: ").append(millis).append(" ms; warnings: ");
            sb.append(warnings.isEmpty() ? "none" : String.join(" | ", warnings));
            return sb.toString();
        }
    }
}
