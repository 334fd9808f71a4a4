package io.shardschema.change;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** What ShardSchema reads from pt-osc's output (as pt-osc 3.2.1 prints it). */
class PtOscOutputTest {
    private static final String FAILED_COPY = String.join("\n",
            PtOscOutput.header("dry-run", "s", "t", "MODIFY n INT NOT NULL"),
            "Dry run complete.",
            PtOscOutput.header("copy", "s", "t", "MODIFY n INT NOT NULL"),
            "Operation, tries, wait:",
            "  analyze_table, 10, 1",
            "Altering `s`.`t`...",
            "2026-12-03T07:12:45 Copying approximately 3 rows...",
            "\t(in cleanup) 2026-12-03T07:12:45 Error copying rows from `s`.`t` to `s`.`_t_new`: Copying rows caused a"
                    + " MySQL error 1048:",
            "    Level: Warning",
            "     Code: 1048",
            "  Message: Column 'n' cannot be null",
            "Not dropping triggers because --no-drop-triggers was specified.  To drop the triggers, execute:",
            "DROP TRIGGER IF EXISTS `s`.`pt_osc_s_t_del`",
            "Not dropping the new table `s`.`_t_new` because --no-drop-new-table was specified.  To drop the new"
                    + " table, execute:",
            "DROP TABLE IF EXISTS `s`.`_t_new`;",
            "`s`.`t` was not altered.");

    @Test
    void theSummaryKeepsTheRealErrorAndDropsAdviceThatNoLongerApplies() {
        String summary = new PtOscOutput(FAILED_COPY).summary();
        assertThat(summary).contains("Column 'n' cannot be null", "Copying rows caused a MySQL error 1048", "was not altered")
                .doesNotContain("DROP TRIGGER", "DROP TABLE", "Not dropping", "Dry run complete", "analyze_table");
        assertThat(new PtOscOutput(FAILED_COPY).transientFailure()).isFalse();
        assertThat(new PtOscOutput("DBI connect failed: Lost connection to MySQL server").transientFailure()).isTrue();
    }

    @Test
    void truncationWarningsAndAppliedRenamesAreRead() {
        PtOscOutput said = new PtOscOutput(String.join("\n", "Renaming columns:", "  v to w", "  K to k2",
                "Copying rows caused a MySQL error 1265: Data truncated for column 's' at row 1",
                "No more warnings about this MySQL error will be reported."));
        assertThat(said.dataWarnings()).containsExactly(
                "Copying rows caused a MySQL error 1265: Data truncated for column 's' at row 1");
        assertThat(said.renames()).containsExactly(java.util.Map.entry("v", "w"), java.util.Map.entry("k", "k2"));
    }
}
