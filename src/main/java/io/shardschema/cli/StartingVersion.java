package io.shardschema.cli;

import io.shardschema.Printable;
import io.shardschema.catalog.Catalog;
import io.shardschema.catalog.Version;
import io.shardschema.schema.SchemaSnapshot;
import io.shardschema.schema.TableDefinition;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Where a schema that `apply` registers in a catalog with versions starts. A new shard starts at version 0 and
 * gets every version; one whose schema is already the one expected at a version (a tenant created from the
 * current schema, a shard pruned and declared again) would get them again, on tables that have them. So: the
 * highest version whose expected schema it has exactly; else 0 when version 1's table is what version 1 starts
 * from (or version 1 does not know: then said); else refused.
 */
final class StartingVersion {
    /** A start, or why the schema cannot be registered ({@code start} null); {@code note}: what to know of it. */
    record Decision(Catalog.Start start, String refusal, String note) {
    }

    private final Version first;
    /** Expected schemas' fingerprints, each to the highest version that expects it: computed once per apply. */
    private final Map<String, Integer> versionByFingerprint = new HashMap<>();

    /** {@code stored}: the catalog's versions, in order; at least one. */
    StartingVersion(List<Version> stored) {
        first = stored.get(0);
        for (Version v : stored) {
            if (v.expected().schemaAfter() != null) {
                versionByFingerprint.put(new SchemaSnapshot(v.expected().schemaAfter()).fingerprint(), v.number());
            }
        }
    }

    Decision of(Connection c, String schema) throws SQLException {
        SchemaSnapshot actual = SchemaSnapshot.read(c, schema, null);
        String fingerprint = actual.fingerprint();
        Integer at = versionByFingerprint.get(fingerprint);
        if (at != null) {
            return new Decision(new Catalog.Start(at, fingerprint), null, null);
        }
        String before = first.expected().tableBefore();
        String table = actual.table(first.tableName());
        if (before == null) {
            return new Decision(Catalog.Start.NEW, null, "version " + first.number() + " was added without a"
                    + " preflight, so where this schema starts cannot be told: it starts at version 0 and gets every"
                    + " version (`baseline` it if it has them)");
        }
        if (before.equals(table)) {
            return new Decision(Catalog.Start.NEW, null, null);
        }
        String diff = TableDefinition.diff(before, table, "version " + first.number() + " starts from",
                "its " + first.tableName()).lines().map(Printable::escape).collect(Collectors.joining("\n"));
        return new Decision(null, "its schema is not the one expected at any version, and its table "
                + Printable.escape(first.tableName()) + " is not what version " + first.number() + " starts from,"
                + " so every version would run on it again; make its schema the one expected at a version and"
                + " apply again (or `shard add` it and `baseline` it):\n" + diff, null);
    }
}
