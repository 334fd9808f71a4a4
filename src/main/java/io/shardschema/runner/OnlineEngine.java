package io.shardschema.runner;

import io.shardschema.catalog.OnlineCatalog;
import io.shardschema.catalog.RunEnding;

import java.io.IOException;
import java.sql.SQLException;
import java.util.Optional;

/**
 * A way of changing a table online, driven phase by phase by {@link OnlineChange}: pt-online-schema-change
 * ({@link PtOscEngine}) or the built-in binlog engine ({@link BinlogEngine}). One instance serves one claim of one
 * task; closing it ends whatever the claim keeps running.
 */
interface OnlineEngine extends AutoCloseable {
    /**
     * Preparing: whether the change can run on this shard, leaving nothing behind. An ending (refused, failed)
     * ends the run; empty goes on to the approval gate.
     */
    Optional<RunEnding> check(OnlineWork w) throws SQLException, IOException, InterruptedException;

    /**
     * Copying, after the leftovers of any earlier copy are gone: the shadow table made, filled and checked. Empty
     * when it is ready to swap; else the run's ending (a cancel shows as a failure, which the lifecycle reads as
     * the cancel).
     */
    Optional<RunEnding> copy(OnlineWork w) throws SQLException, IOException, InterruptedException;

    /**
     * Whether the shadow table is in sync with the table now, so that the swap may start: pt-osc's triggers keep
     * it so between runs, the binlog engine only within the claim that copied.
     */
    boolean inSync();

    /** The table's name after the swap, before it moves to the pending-drops database. */
    String oldTable(String table, String stamp);

    /**
     * Cutting over: the swap, resumable (after a crash the tables say whether it happened), and the old table
     * made ready to move (pt-osc's triggers dropped). Why not, if it did not swap: then the engine has put the task
     * back to copying.
     */
    Optional<String> cutOver(OnlineWork w, OnlineCatalog.Task task) throws SQLException;

    /** Removes what a copy leaves, the table untouched: before a copy, and on a cancel. */
    void removeLeftovers(OnlineWork w, OnlineCatalog.Task task) throws SQLException;

    @Override
    void close();
}
