package io.shardschema.change;

import io.shardschema.ShardSchemaException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** How ALTER bodies read for pt-osc: renames as the server and as pt-osc see them, and what is refused. */
class PtOscAlterTest {
    @Test
    void trueRenamesAreFoundAndNeedNoCheckAlter() {
        PtOscAlter alter = PtOscAlter.read("t", "CHANGE COLUMN `a` `b` INT, CHANGE c d VARCHAR(3),"
                + " CHANGE e e BIGINT, MODIFY f INT COMMENT 'change f g'");
        assertThat(alter.renames()).isEqualTo(Map.of("a", "b", "c", "d"));
        assertThat(alter.arguments()).containsExactly("--no-check-alter");
        assertThat(PtOscAlter.read("t", "ADD COLUMN z INT, RENAME INDEX i TO j").arguments()).isEmpty();
    }

    @Test
    void textPtOscWouldReadAsARenameIsRefused() {
        for (String command : List.of("ADD COLUMN z INT, COMMENT='change v w'",
                "ADD COLUMN x INT COMMENT 'a',\nADD COLUMN y INT COMMENT 'change v w'",
                "ADD COLUMN y INT, ADD COLUMN `x.v` INT, CHANGE z z INT COMMENT = 'x', COMMENT='change `x.v` w'")) {
            assertThatThrownBy(() -> PtOscAlter.read("t", command)).isInstanceOf(ShardSchemaException.class)
                    .hasMessageContaining("pt-osc would read its renames as `v` → `w` where the server reads no rename");
        }
    }

    @Test
    void ptOscReadsTheAlterAsBytes() {
        // In bytes, the é before "change" is no letter: pt-osc reads a rename of `INT` to `NOT`.
        assertThatThrownBy(() -> PtOscAlter.read("t", "ADD COLUMN échange INT NOT NULL"))
                .hasMessageContaining("pt-osc would read its renames as `int` → `NOT`");
        assertRefused("CHANGE COLUMN ärger ärger2 INT", "beyond ASCII");
    }

    @Test
    void whatPtOscCannotRunSafelyIsRefusedWithTheWayOut() {
        assertRefused("DROP INDEX `PRIMARY`, ADD PRIMARY KEY (id, v)", "drops the primary key");
        assertRefused("DROP KEY IF EXISTS PRIMARY", "drops the primary key");
        assertRefused("RENAME COLUMN a TO b", "CHANGE COLUMN old new");
        assertRefused("RENAME TO t2", "--type sql");
        assertRefused("RENAME t2", "renames the table");
        assertRefused("DROP PRIMARY KEY, ADD PRIMARY KEY (id, v)", "drops the primary key");
        assertRefused("ADD CONSTRAINT f FOREIGN KEY (v) REFERENCES p (id)", "foreign key");
    }

    @Test
    void foreignKeysInThePreflightsTablesAreRefusedForChildAndParent() {
        java.util.SortedMap<String, String> before = new java.util.TreeMap<>(Map.of(
                "p", "CREATE TABLE `p` (\n  `id` int(11) NOT NULL,\n  PRIMARY KEY (`id`)\n)",
                "c", "CREATE TABLE `c` (\n  `id` int(11) NOT NULL,\n  `p` int(11) DEFAULT NULL,\n  PRIMARY KEY (`id`),\n"
                        + "  CONSTRAINT `fk` FOREIGN KEY (`p`) REFERENCES `p` (`id`)\n)"));
        assertThatThrownBy(() -> PtOscAlter.checkForeignKeys("pt-osc", "p", before, before.get("p")))
                .hasMessageContaining("(c → p)");
        assertThatThrownBy(() -> PtOscAlter.checkForeignKeys("pt-osc", "c", before, before.get("c")))
                .hasMessageContaining("(c → p)");
        before.remove("c");
        PtOscAlter.checkForeignKeys("pt-osc", "p", before, before.get("p"));
    }

    private static void assertRefused(String command, String says) {
        assertThatThrownBy(() -> PtOscAlter.read("t", command)).isInstanceOf(ShardSchemaException.class)
                .hasMessageContaining(says);
    }
}
