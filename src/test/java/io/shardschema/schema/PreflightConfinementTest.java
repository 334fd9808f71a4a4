package io.shardschema.schema;

import com.fasterxml.jackson.databind.JsonNode;
import io.shardschema.config.DataSources;
import io.shardschema.embedded.MariaDbServer;
import io.shardschema.testing.Cli;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A change given to `preflight` or `version add` can touch nothing outside the shard's schema (and, in the
 * preflight, outside the scratch schema): every way to name another schema, to add a statement, or to make the
 * server read the text differently from the check is refused before anything runs, and the victim schema on the
 * same server keeps its tables. Common valid DDL still passes.
 */
class PreflightConfinementTest {
    private static TestFleet fleet;
    private static String victim;

    @BeforeAll
    static void fleet() {
        fleet = TestFleet.create(TestServers.shared(), "confine", 1);
        fleet.registerAll();
        victim = fleet.prefix + "_victim";
    }

    @BeforeEach
    void victimSchema() {
        createVictim(fleet);
    }

    static Stream<Arguments> attacks() {
        return Stream.of(
                // Whole statements that name another schema, however the name is spelled.
                Arguments.of("DROP TABLE {V}/**/./**/users", "names a schema"),
                Arguments.of("DROP TABLE `{V}`.`users`", "names a schema"),
                Arguments.of("DROP TABLE IF EXISTS t2, {V} . users", "names a schema"),
                Arguments.of("RENAME TABLE t TO {V}.t", "names a schema"),
                Arguments.of("RENAME TABLE {V}.users TO stolen", "names a schema"),
                Arguments.of("CREATE TABLE stolen LIKE {V}.users", "names a schema"),
                Arguments.of("CREATE TABLE stolen AS SELECT * FROM {V}.users", "names a schema"),
                Arguments.of("CREATE TABLE child (pid INT, FOREIGN KEY (pid) REFERENCES {V}.p (id))", "names a schema"),
                Arguments.of("CREATE TABLE t2 (id INT); DROP DATABASE {V}", "one statement"),
                // Executable comments: their content runs.
                Arguments.of("DROP TABLE t2 /*! , {V}.users */", "names a schema"),
                Arguments.of("DROP TABLE t2 /*!100000 , {V}.users */", "names a schema"),
                Arguments.of("DROP TABLE t2 /*M! , {V}.users */", "names a schema"),
                Arguments.of("CREATE TABLE t2 (id INT) /*!; DROP DATABASE {V} */", "one statement"),
                Arguments.of("RENAME TABLE t TO t_old /*M!100000 , `{V}`.users TO stolen */", "names a schema"),
                // Engines that reach other schemas or servers through options and strings.
                Arguments.of("CREATE TABLE spy (id INT) ENGINE=SPIDER COMMENT='database \"{V}\", table \"users\"'",
                        "SPIDER"),
                Arguments.of("CREATE TABLE spy ENGINE 'connect' TABLE_TYPE=MYSQL DBNAME='{V}' TABNAME='users'",
                        "CONNECT"),
                // Files where the server writes them, and the run's own fence.
                Arguments.of("CREATE TABLE d (id INT) ENGINE=MyISAM DATA DIRECTORY='/tmp' INDEX DIRECTORY='/tmp'",
                        "DIRECTORY"),
                Arguments.of("CREATE TABLE f AS SELECT RELEASE_ALL_LOCKS() AS r", "RELEASE_ALL_LOCKS"),
                // ALTER bodies.
                Arguments.of("RENAME TO {V}.t", "names a schema"),
                Arguments.of("RENAME {V}.t", "names a schema"),
                Arguments.of("RENAME AS `{V}`.`t`", "names a schema"),
                Arguments.of("RENAME TO {V}.5t", "names a schema"),
                Arguments.of("ADD COLUMN pid INT, ADD FOREIGN KEY (pid) REFERENCES {V}.p (id)", "names a schema"),
                Arguments.of("ADD COLUMN c INT, RENAME TO {V}.t", "names a schema"),
                Arguments.of("EXCHANGE PARTITION p0 WITH TABLE {V}.users", "names a schema"),
                Arguments.of("ADD COLUMN c INT; USE {V}", "one statement"),
                Arguments.of("ADD COLUMN c INT -- note\n, RENAME TO {V}.t", "names a schema"),
                Arguments.of("ADD COLUMN c INT # note\n, RENAME TO {V}.t", "names a schema"),
                // Text the check and the server could split differently.
                Arguments.of("ADD COLUMN c INT /*!99999 ' */ , RENAME TO {V}.t -- ' */", "executable comment"),
                Arguments.of("ADD COLUMN c INT COMMENT 'x\\' , RENAME TO {V}.t -- '", "NO_BACKSLASH_ESCAPES"),
                Arguments.of("ADD COLUMN \"c\\\" INT, RENAME TO \"{V}\".t -- \" INT", "ANSI_QUOTES"),
                Arguments.of("ADD COLUMN c INT COMMENT 'unterminated", "unterminated"),
                Arguments.of("ADD COLUMN c INT DEFAULT {fn NOW()}", "'{'"));
    }

    @ParameterizedTest
    @MethodSource("attacks")
    void anAttackIsRefusedByPreflightAndVersionAddAndTheVictimSurvives(String attack, String reason) {
        String command = attack.replace("{V}", victim);
        Cli.Result preflight = Cli.run(fleet.configFile, "preflight", "--table", "t", "--command", command);
        assertThat(preflight.exit()).as(preflight.all()).isEqualTo(2);
        assertThat(preflight.err()).contains(reason);
        assertVictimAndShardIntact(fleet);

        Cli.Result add = Cli.run(fleet.configFile, "version", "add", "--table", "t", "--command", command);
        assertThat(add.exit()).as(add.all()).isEqualTo(2);
        assertThat(add.err()).contains(reason).contains("nothing was written");
        assertVictimAndShardIntact(fleet);
        assertThat(fleet.count("SELECT COUNT(*) FROM `" + fleet.prefix + "_catalog`.versions")).isZero();
    }

    @Test
    void aRollbackThatNamesAnotherSchemaIsRefused() {
        Cli.Result add = Cli.run(fleet.configFile, "version", "add", "--table", "t", "--command", "ADD COLUMN c INT",
                "--rollback", "RENAME TABLE " + victim + ".users TO stolen");
        assertThat(add.exit()).as(add.all()).isEqualTo(2);
        assertThat(add.err()).contains("names a schema");
        assertVictimAndShardIntact(fleet);
    }

    static Stream<Arguments> validChanges() {
        return Stream.of(
                Arguments.of("t", "ADD COLUMN IF NOT EXISTS c INT, ALGORITHM=INSTANT", "INSTANT"),
                Arguments.of("t", "ADD COLUMN g INT AS (id * 2) VIRTUAL", "INSTANT"),
                Arguments.of("t", "ADD COLUMN price DECIMAL(10,2) NOT NULL DEFAULT 1.50 COMMENT 'it''s the \"price\"'",
                        "INSTANT"),
                Arguments.of("t", "ADD COLUMN path VARCHAR(99) DEFAULT 'C:\\\\temp\\\\' COMMENT 'a\\tb'", "INSTANT"),
                Arguments.of("t", "ADD COLUMN ratio DOUBLE DEFAULT .5, ADD COLUMN big DOUBLE DEFAULT 1e3", "INSTANT"),
                Arguments.of("t", "ADD COLUMN attrs JSON NOT NULL DEFAULT '{}' CHECK (JSON_VALID(attrs))", null),
                Arguments.of("t", "ADD COLUMN `odd``name` INT COMMENT \"double-quoted\"", "INSTANT"),
                Arguments.of("t", "ADD COLUMN n VARCHAR(10) CHARACTER SET utf8mb4 DEFAULT _utf8mb4'x' COLLATE utf8mb4_bin",
                        "INSTANT"),
                Arguments.of("t", "ADD INDEX idx_v (v), ALGORITHM=INPLACE, LOCK=NONE", "INPLACE"),
                Arguments.of("t", "ADD SYSTEM VERSIONING", null),
                Arguments.of("t", "ADD COLUMN c INT /*!50100 COMMENT 'made by 5.1 or later' */, /*M!100000 ADD COLUMN d INT */",
                        "INSTANT"),
                Arguments.of("t", "ENGINE=InnoDB", null),
                Arguments.of("t", "MODIFY id BIGINT # widen the key", "COPY"),
                Arguments.of("h", "CREATE TABLE h (id INT PRIMARY KEY, at DATETIME(6) DEFAULT NOW(6)) WITH SYSTEM VERSIONING",
                        "NOT_AN_ALTER"),
                Arguments.of("t2", "CREATE TABLE t2 LIKE t", "NOT_AN_ALTER"),
                Arguments.of("t3", "CREATE TABLE IF NOT EXISTS t3 AS SELECT id, v FROM t WHERE id > 1", "NOT_AN_ALTER"),
                Arguments.of("t", "RENAME TABLE t TO t_old", "NOT_AN_ALTER"),
                Arguments.of("t", "DROP TABLE IF EXISTS t", "NOT_AN_ALTER"));
    }

    @ParameterizedTest
    @MethodSource("validChanges")
    void commonValidDdlStillPasses(String table, String command, String algorithm) {
        Cli.Result r = Cli.run(fleet.configFile, "preflight", "--json", "--table", table, "--command", command);
        assertThat(r.exit()).as(r.all()).isEqualTo(0);
        JsonNode report = r.json();
        assertThat(report.path("ok").asBoolean()).as(r.all()).isTrue();
        assertThat(report.path("noSandbox").isNull()).as("ran as the temporary account: " + r.all()).isTrue();
        if (algorithm != null) {
            assertThat(report.path("algorithm").asText()).isEqualTo(algorithm);
        }
        assertVictimAndShardIntact(fleet);
    }

    /**
     * On a server whose sql_mode reads double quotes as names and backslashes as plain characters, the same
     * attacks would really run: they are refused there too, and the victim keeps its tables.
     */
    @Test
    void attacksThatDependOnTheServersSqlModeAreRefusedOnSuchAServer() {
        try (MariaDbServer ansi = TestServers.fresh("ansi", List.of("--sql-mode=ANSI_QUOTES,NO_BACKSLASH_ESCAPES"))) {
            TestFleet ansiFleet = TestFleet.create(TestServers.shared(), ansi, "confansi", 1);
            ansiFleet.registerAll();
            createVictim(ansiFleet);
            for (String attack : List.of("ADD COLUMN c INT COMMENT 'x\\' , RENAME TO {V}.t -- '",
                    "ADD COLUMN \"c\\\" INT, RENAME TO \"{V}\".t -- \" INT")) {
                Cli.Result r = Cli.run(ansiFleet.configFile, "preflight", "--table", "t", "--command",
                        attack.replace("{V}", victim));
                assertThat(r.exit()).as(r.all()).isEqualTo(2);
                assertThat(r.err()).contains("names a schema");
                assertVictimAndShardIntact(ansiFleet);
            }
        }
    }

    /**
     * The second wall: straight to {@link Preflight#run}, past the statement check, statements that leave the
     * scratch schema are refused by the server, since they run as an account granted nothing else.
     */
    @Test
    void aStatementPastTheCheckStillCannotLeaveTheScratchSchema() throws SQLException {
        String schema = fleet.schemas.get(0);
        try (Connection c = fleet.connect(schema)) {
            for (String escape : List.of("RENAME TABLE {V}.users TO stolen", "DROP TABLE {V}.users",
                    "CREATE TABLE stolen AS SELECT * FROM {V}.users", "CREATE TABLE stolen LIKE {V}.users",
                    "CREATE TABLE child (id INT, FOREIGN KEY (id) REFERENCES {V}.p (id))")) {
                Preflight.Report r = Preflight.run(c, login(fleet), SchemaSnapshot.read(c, schema, null)
                        .tables(), escape.replace("{V}", victim), false, Preflight.RollbackChoice.NONE);
                assertThat(r.noSandbox()).isNull();
                assertThat(r.error()).as(escape).contains("denied to user '" + Preflight.SCRATCH_PREFIX);
                assertVictimAndShardIntact(fleet);
            }
            Preflight.Report alter = Preflight.run(c, login(fleet), SchemaSnapshot.read(c, schema, null)
                    .tables(), "ALTER TABLE t RENAME TO " + victim + ".t", true, Preflight.RollbackChoice.NONE);
            assertThat(alter.error()).contains("denied");
            Preflight.Report rollback = Preflight.run(c, login(fleet),
                    SchemaSnapshot.read(c, schema, null).tables(), "ALTER TABLE t ADD COLUMN c INT", true,
                    (before, after) -> "RENAME TABLE " + victim + ".users TO stolen");
            assertThat(rollback.rollbackError()).contains("denied");
            assertVictimAndShardIntact(fleet);
        }
    }

    /** An account that may not create accounts still preflights, in its own session, and says so. */
    @Test
    void withoutTheRightToCreateAccountsThePreflightRunsInItsOwnSession() throws SQLException {
        String schema = fleet.schemas.get(0);
        String limited = fleet.prefix + "_limited";
        String password = "Limited-9-password";
        try (Connection root = fleet.connect(null); Statement s = root.createStatement()) {
            s.execute("CREATE USER '" + limited + "'@'127.0.0.1' IDENTIFIED BY '" + password + "'");
            s.execute("GRANT ALL ON `" + schema + "`.* TO '" + limited + "'@'127.0.0.1'");
            s.execute("GRANT ALL ON `\\_ss\\_scratch\\_%`.* TO '" + limited + "'@'127.0.0.1'");
            try (Connection c = DataSources.connect(fleet.shardServer.rootDsn(schema).withCredentials(limited, password))) {
                Preflight.Report r = Preflight.run(c, login(fleet), SchemaSnapshot.read(c, schema,
                        null).tables(), "ALTER TABLE t ADD COLUMN c INT", true, Preflight.RollbackChoice.NONE);
                assertThat(r.error()).isNull();
                assertThat(r.algorithm()).isEqualTo(Preflight.Algorithm.INSTANT);
                assertThat(r.noSandbox()).contains("no temporary account").contains("CREATE USER");
            } finally {
                s.execute("DROP USER '" + limited + "'@'127.0.0.1'");
            }
        }
        assertVictimAndShardIntact(fleet);
    }

    /** Logs in to the fleet's shard server as the account Preflight asks for. */
    private static Preflight.Login login(TestFleet on) {
        return (user, password, database) -> DataSources.connect(on.shardServer.rootDsn(database)
                .withCredentials(user, password));
    }

    /** A schema beside the shard's on the same server, with a table {@code users} (one row) and a table {@code p}. */
    private static void createVictim(TestFleet on) {
        try (Connection c = on.connect(null); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS `" + victim + "`");
            s.execute("CREATE DATABASE `" + victim + "`");
            s.execute("CREATE TABLE `" + victim + "`.users (id INT PRIMARY KEY)");
            s.execute("INSERT INTO `" + victim + "`.users VALUES (1)");
            s.execute("CREATE TABLE `" + victim + "`.p (id INT PRIMARY KEY)");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void assertVictimAndShardIntact(TestFleet on) {
        assertThat(on.shardColumn("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" + victim
                + "' ORDER BY TABLE_NAME")).containsExactly("p", "users");
        assertThat(on.shardCount("SELECT COUNT(*) FROM `" + victim + "`.users")).isEqualTo(1);
        assertThat(on.shardColumn("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '"
                + on.schemas.get(0) + "'")).containsExactly("t");
        assertThat(on.shardCount("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '"
                + Preflight.SCRATCH_PREFIX.replace("_", "\\\\_") + "%'")).isZero();
        assertThat(on.shardCount("SELECT COUNT(*) FROM mysql.user WHERE User LIKE '"
                + Preflight.SCRATCH_PREFIX.replace("_", "\\\\_") + "%'")).as("temporary accounts left").isZero();
    }
}
