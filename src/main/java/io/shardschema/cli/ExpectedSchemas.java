package io.shardschema.cli;

import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Catalog;
import io.shardschema.catalog.Version;
import io.shardschema.schema.SchemaSnapshot;

/** The schema a shard should have at a version: what that version's preflight expected after it. */
final class ExpectedSchemas {
    private ExpectedSchemas() {
    }

    static SchemaSnapshot at(Catalog catalog, int version) {
        Version v = catalog.requireVersion(version);
        if (v.expected().schemaAfter() == null) {
            throw ShardSchemaException.usage("version " + version + " has no expected schema (it was added without a"
                    + " preflight, or before this catalog layout); compare with a shard instead (diff --shard A --shard B)");
        }
        return new SchemaSnapshot(v.expected().schemaAfter());
    }
}
