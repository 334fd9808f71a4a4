package io.shardschema.schema;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import java.util.SortedMap;
import java.util.TreeMap;

/** CHECKSUM TABLE of a shard's tables: whether two shards (or a primary and its replica) hold the same rows. */
public final class DataChecksum {
    private DataChecksum() {
    }

    /** Table name to checksum; reads every row of every table, so it costs a full scan of each. */
    public static SortedMap<String, Long> of(Connection c, String schema, Collection<String> tables) throws SQLException {
        SortedMap<String, Long> out = new TreeMap<>();
        try (Statement s = c.createStatement()) {
            for (String table : tables) {
                try (ResultSet rs = s.executeQuery("CHECKSUM TABLE " + Sql.quote(schema) + "." + Sql.quote(table))) {
                    rs.next();
                    out.put(table, rs.getLong(2));
                }
            }
        }
        return out;
    }
}
