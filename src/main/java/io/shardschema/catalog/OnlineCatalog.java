package io.shardschema.catalog;

import io.shardschema.ShardSchemaException;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The catalog's record of online changes: one {@code online} row per (shard, version) with its lifecycle phase,
 * the DBA's gate decisions, the table's size, the copy's progress and the names of the swapped-out table.
 */
public final class OnlineCatalog {
    public static final String PREPARING = "preparing";
    public static final String AWAITING_APPROVAL = "awaiting approval";
    public static final String COPYING = "copying";
    public static final String AWAITING_CUTOVER = "awaiting cut-over";
    public static final String CUTTING_OVER = "cutting over";
    public static final String COMPLETED = "completed";
    public static final String CANCELLED = "cancelled";

    private static final String COLUMNS = "o.shardId, o.version, o.phase, o.approved OR v.autoApprove,"
            + " o.cutoverRequested OR v.autoCutover, o.cancelRequested, o.tableRows, o.tableBytes, o.progress,"
            + " o.etaSeconds, o.oldTable, o.pendingTable, o.updatedAt, o.copiedRun";

    /** SQL over {@code online o} and {@code versions v}: the task has somewhere to go without waiting for a DBA. */
    static final String GATE_OPEN = "o.cancelRequested = 1"
            + " OR (o.phase = '" + AWAITING_APPROVAL + "' AND (o.approved = 1 OR v.autoApprove = 1))"
            + " OR (o.phase = '" + AWAITING_CUTOVER + "' AND (o.cutoverRequested = 1 OR v.autoCutover = 1))";

    private final Catalog catalog;

    OnlineCatalog(Catalog catalog) {
        this.catalog = catalog;
    }

    /** An online task as the catalog has it; the gates count as open when the version opens them for every shard. */
    public record Task(long shardId, int version, String phase, boolean approved, boolean cutoverRequested,
                       boolean cancelRequested, Long tableRows, Long tableBytes, Double progress, Integer etaSeconds,
                       String oldTable, String pendingTable, java.time.Instant updatedAt, Integer copiedRun) {

        /** "copying: 45%, about 2m10s left; table ~100000 rows, 12 MB" */
        public String describe() {
            StringBuilder sb = new StringBuilder(phase);
            if (phase.equals(COPYING) && progress != null) {
                sb.append(": ").append(Math.round(progress)).append('%');
                if (etaSeconds != null) {
                    sb.append(", about ").append(duration(etaSeconds)).append(" left");
                }
            }
            if (tableRows != null) {
                sb.append("; table ~").append(tableRows).append(" rows, ").append(tableBytes / (1024 * 1024)).append(" MB");
            }
            return sb.toString();
        }
    }

    static String duration(int seconds) {
        return seconds >= 3600 ? seconds / 3600 + "h" + seconds % 3600 / 60 + "m"
                : seconds >= 60 ? seconds / 60 + "m" + seconds % 60 + "s" : seconds + "s";
    }

    /** One phase of a version's online tasks: how many, their mean progress and the longest time left. */
    public record PhaseSummary(String phase, int tasks, Double meanProgress, Integer longestEtaSeconds) {
        public String describe() {
            return tasks + " " + phase + (phase.equals(COPYING) && meanProgress != null
                    ? " (mean " + Math.round(meanProgress) + "%" + (longestEtaSeconds == null ? ""
                    : ", longest about " + duration(longestEtaSeconds) + " left") + ")" : "");
        }
    }

    /** The task of (shard, version), created in phase preparing if it has none yet. */
    public Task open(long shardId, int version) {
        return catalog.sql(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT IGNORE INTO online (shardId, version, phase) VALUES (?, ?, ?)")) {
                ps.setLong(1, shardId);
                ps.setInt(2, version);
                ps.setString(3, PREPARING);
                ps.executeUpdate();
            }
            return tasks(c, " WHERE o.shardId = ? AND o.version = ?", List.of(shardId, version), 1).get(0);
        });
    }

    public List<Task> tasks(Integer version, Long shardId, int limit) {
        StringBuilder where = new StringBuilder(" WHERE 1 = 1");
        List<Object> params = new ArrayList<>();
        if (version != null) {
            where.append(" AND o.version = ?");
            params.add(version);
        }
        if (shardId != null) {
            where.append(" AND o.shardId = ?");
            params.add(shardId);
        }
        return catalog.sql(c -> tasks(c, where.toString(), params, limit));
    }

    private static List<Task> tasks(Connection c, String where, List<Object> params, int limit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM online o"
                + " JOIN versions v ON v.version = o.version" + where + " ORDER BY o.version, o.shardId LIMIT ?")) {
            int i = 1;
            for (Object p : params) {
                ps.setObject(i++, p);
            }
            ps.setInt(i, limit);
            try (ResultSet rs = ps.executeQuery()) {
                List<Task> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(new Task(rs.getLong(1), rs.getInt(2), rs.getString(3), rs.getBoolean(4), rs.getBoolean(5),
                            rs.getBoolean(6), (Long) rs.getObject(7, Long.class), rs.getObject(8, Long.class),
                            rs.getObject(9, Double.class), rs.getObject(10, Integer.class), rs.getString(11),
                            rs.getString(12), Catalog.instant(rs.getTimestamp(13)), rs.getObject(14, Integer.class)));
                }
                return out;
            }
        }
    }

    /** The online tasks of one version, by phase. */
    public List<PhaseSummary> phases(int version) {
        return catalog.sql(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT phase, COUNT(*), AVG(progress), MAX(etaSeconds)"
                    + " FROM online WHERE version = ? GROUP BY phase ORDER BY phase")) {
                ps.setInt(1, version);
                try (ResultSet rs = ps.executeQuery()) {
                    List<PhaseSummary> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(new PhaseSummary(rs.getString(1), rs.getInt(2), rs.getObject(3, Double.class),
                                rs.getObject(4, Integer.class)));
                    }
                    return out;
                }
            }
        });
    }

    /** What became of a move from one phase to the next. */
    public enum Move { MOVED, CANCELLED, LEASE_LOST }

    /**
     * Sets the task's phase, under the lease (a runner that lost it writes nothing); throws {@link Catalog.LeaseLost}
     * when the lease is gone.
     */
    public void phase(Lease lease, String phase) {
        if (!fenced(lease, "o.phase = ?, o.copiedRun = IF(? = '" + COPYING + "', NULL, o.copiedRun)",
                List.of(phase, phase), "", List.of())) {
            throw new Catalog.LeaseLost("the lease of shard " + lease.shardId() + " was lost before phase " + phase);
        }
    }

    /**
     * Moves the task from one phase to the next under the lease, unless a cancel was asked for. Entering
     * {@code copying} forgets an earlier completed copy; {@code copiedRun} (else null), written only when the copy
     * of that run completed and was checked, is what the swap later requires.
     */
    public Move move(Lease lease, String from, String to, Integer copiedRun) {
        if (fenced(lease, "o.phase = ?, o.copiedRun = IF(? = '" + COPYING + "', NULL, COALESCE(?, o.copiedRun))",
                java.util.Arrays.asList(to, to, copiedRun), " AND o.phase = ? AND o.cancelRequested = 0", List.of(from))) {
            return Move.MOVED;
        }
        return catalog.sql(c -> Catalog.queryInt(c, "SELECT COUNT(*) FROM shards s WHERE " + Catalog.LEASE_HELD,
                lease.shardId(), lease.token())) == 0 ? Move.LEASE_LOST : Move.CANCELLED;
    }

    public void size(Lease lease, long rows, long bytes) {
        fenced(lease, "o.tableRows = ?, o.tableBytes = ?", List.of(rows, bytes), "", List.of());
    }

    public void progress(Lease lease, Double percent, Integer etaSeconds) {
        fenced(lease, "o.progress = ?, o.etaSeconds = ?", java.util.Arrays.asList(percent, etaSeconds), "", List.of());
    }

    /** Recorded before the swap, so that a takeover can tell whether it happened. */
    public void swapNames(Lease lease, String oldTable, String pendingTable) {
        if (!fenced(lease, "o.oldTable = ?, o.pendingTable = ?", List.of(oldTable, pendingTable), "", List.of())) {
            throw new Catalog.LeaseLost("the lease of shard " + lease.shardId() + " was lost before the swap");
        }
    }

    /**
     * One write of the task of the lease's shard and version, only while the lease is the runner's (the shard's
     * task column still names it): {@code set} with {@code setValues}, on the rows {@code andWhere} (with
     * {@code whereValues}) also selects. False when nothing was written.
     */
    private boolean fenced(Lease lease, String set, List<Object> setValues, String andWhere, List<Object> whereValues) {
        return catalog.sql(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE online o JOIN shards s ON s.shardId = o.shardId"
                    + " SET " + set + " WHERE o.shardId = ? AND o.version = ?" + andWhere
                    + " AND " + Catalog.LEASE_HELD)) {
                int i = 1;
                for (Object v : setValues) {
                    ps.setObject(i++, v);
                }
                ps.setLong(i++, lease.shardId());
                ps.setInt(i++, lease.targetVersion());
                for (Object v : whereValues) {
                    ps.setObject(i++, v);
                }
                ps.setLong(i++, lease.shardId());
                ps.setString(i, lease.token());
                return ps.executeUpdate() > 0;
            }
        });
    }

    public boolean cancelRequested(long shardId, int version) {
        return catalog.sql(c -> Catalog.queryInt(c, "SELECT COUNT(*) FROM online WHERE shardId = ? AND version = ?"
                + " AND cancelRequested = 1", shardId, version) > 0);
    }

    /** What a gate command did: tasks marked, and waiting shards made claimable again. */
    public record GateResult(int version, Long shardId, int marked, int woken) {
    }

    /**
     * Opens the approval gate of {@code version}: on one shard, or (without a shard) on every shard, including
     * those that have not prepared it yet.
     */
    public GateResult approve(int version, Long shardId) {
        return gate(version, shardId, "approved", "autoApprove", AWAITING_APPROVAL);
    }

    /** Opens the cut-over gate of {@code version}, on one shard or on every shard. */
    public GateResult cutover(int version, Long shardId) {
        return gate(version, shardId, "cutoverRequested", "autoCutover", AWAITING_CUTOVER);
    }

    private GateResult gate(int version, Long shardId, String flag, String versionFlag, String waitingPhase) {
        requireOnline(version);
        return catalog.sql(c -> {
            if (shardId == null) {
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE versions SET " + versionFlag + " = 1 WHERE version = ?")) {
                    ps.setInt(1, version);
                    ps.executeUpdate();
                }
            }
            int marked = mark(c, flag + " = 1", version, shardId, "");
            int woken = wake(c, version, shardId, "o.phase = ?", waitingPhase);
            return new GateResult(version, shardId, marked, woken);
        });
    }

    /**
     * Asks the started online tasks of {@code version} (one shard, or all) to stop before their cut-over; the
     * runner that holds one (or next claims it) removes the triggers and the shadow table.
     */
    public GateResult cancel(int version, Long shardId) {
        requireOnline(version);
        return catalog.sql(c -> {
            int marked = mark(c, "cancelRequested = 1", version, shardId, " AND phase IN ('" + PREPARING + "', '"
                    + AWAITING_APPROVAL + "', '" + COPYING + "', '" + AWAITING_CUTOVER + "')");
            int woken = wake(c, version, shardId, "o.cancelRequested = ?", 1);
            return new GateResult(version, shardId, marked, woken);
        });
    }

    private static int mark(Connection c, String set, int version, Long shardId, String andWhere) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE online SET " + set + " WHERE version = ?"
                + (shardId == null ? "" : " AND shardId = ?") + andWhere)) {
            ps.setInt(1, version);
            if (shardId != null) {
                ps.setLong(2, shardId);
            }
            return ps.executeUpdate();
        }
    }

    private static int wake(Connection c, int version, Long shardId, String condition, Object value) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE shards s JOIN online o ON o.shardId = s.shardId"
                + " SET s.state = 'ready' WHERE s.state = 'waiting' AND o.version = ? AND " + condition
                + (shardId == null ? "" : " AND s.shardId = ?"))) {
            ps.setInt(1, version);
            ps.setObject(2, value);
            if (shardId != null) {
                ps.setLong(3, shardId);
            }
            return ps.executeUpdate();
        }
    }

    private void requireOnline(int version) {
        Version v = catalog.requireVersion(version);
        if (!v.isOnline()) {
            throw ShardSchemaException.usage("version " + version + " is of type " + v.type()
                    + ", not an online change: it has no gates");
        }
    }
}
