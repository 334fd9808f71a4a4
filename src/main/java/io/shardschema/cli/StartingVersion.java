package io.shardschema.cli;

import io.shardschema.catalog.Catalog;
import io.shardschema.catalog.Version;
import io.shardschema.schema.SchemaSnapshot;
import io.shardschema.schema.TableDefinition;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/**
 * Where a schema that `apply` registers in a catalog with versions starts. A new shard starts at version 0 and
 * gets every version; one whose schema is already the one expected at a version (a tenant created from the
 * current schema, a shard pruned and declared again) would get them again, on tables that have them. So: the
 * highest version whose expected schema it has exactly; else 0 when version 1's table is as version 1 starts
 * from (or version 1 does not know); else refused.
 */
final class StartingVersion {
    /** A start, or why the schema cannot be registered ({@code start} null). */
    record Decision(Catalog.Start start, String refusal) {
    }

    private StartingVersion() {
    }

    static Decision of(Connection c, String schema, List<Version> stored) throws SQLException {
        if (stored.isEmpty()) {
            return new Decision(Catalog.Start.NEW, null);
        }
        SchemaSnapshot actual = SchemaSnapshot.read(c, schema, null);
        String fingerprint = actual.fingerprint();
        Optional<Version> at = stored.stream().filter(v -> v.expected().schemaAfter() != null)
                .filter(v -> new SchemaSnapshot(v.expected().schemaAfter()).fingerprint().equals(fingerprint))
                .reduce((a, b) -> b);
        if (at.isPresent()) {
            return new Decision(new Catalog.Start(at.get().number(), fingerprint), null);
        }
        Version first = stored.get(0);
        String before = first.expected().tableBefore();
        String table = actual.table(first.tableName());
        if (before == null || before.equals(table)) {
            return new Decision(Catalog.Start.NEW, null);
        }
        return new Decision(null, "its schema is not the one expected at any version, and its table "
                + first.tableName() + " is not what version " + first.number() + " starts from, so every version"
                + " would run on it again; make its schema the one expected at a version and apply again (or"
                + " `shard add` it and `baseline` it):\n" + TableDefinition.diff(before, table, "version "
                + first.number() + " starts from", "its " + first.tableName()).stripTrailing());
    }
}
