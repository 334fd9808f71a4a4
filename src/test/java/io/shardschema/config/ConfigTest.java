package io.shardschema.config;

import io.shardschema.ShardSchemaException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigTest {
    @TempDir
    Path dir;

    private Path write(String text) throws IOException {
        return Files.writeString(dir.resolve("s.cnf"), text);
    }

    @Test
    void readsTheDesignExampleAndDefaults() throws IOException {
        Config c = Config.load(write("# fleet\ndbDSN=\"skeema:skeema@tcp(10.0.3.87:3306)/shardschema\"\n"
                + "throttlingFile=/tmp/ShardSchema.throttle\n\nworkers = 12\n"));
        assertThat(c.catalogDsn()).get().extracting(Dsn::host).isEqualTo("10.0.3.87");
        assertThat(c.embedded()).isFalse();
        assertThat(c.workers()).isEqualTo(12);
        assertThat(c.perServerConcurrency()).isEqualTo(4);
        assertThat(c.maxRuns()).isEqualTo(3);
        assertThat(c.throttlingFile()).isEqualTo(Path.of("/tmp/ShardSchema.throttle"));
    }

    @Test
    void controlFilesAndLogsDefaultToTheUsersOwnFolderNotTmp() throws IOException {
        Config c = Config.load(write("workers=1\n"));
        Path own = Path.of(System.getProperty("user.home"), ".shardschema");
        assertThat(c.throttlingFile()).isEqualTo(own.resolve("ShardSchema.throttle"));
        assertThat(c.stopFile()).isEqualTo(own.resolve("ShardSchema.stop"));
        assertThat(c.logDir()).isEqualTo(own.resolve("logs"));
        assertThat(c.embeddedDir()).isEqualTo(own);
    }

    @Test
    void unknownKeyNamesTheKeyAndLine() throws IOException {
        Path f = write("workers=2\nwokers=3\n");
        assertThatThrownBy(() -> Config.load(f)).isInstanceOfSatisfying(ShardSchemaException.class, e -> {
            assertThat(e.exitCode()).isEqualTo(2);
            assertThat(e.getMessage()).contains("line 2").contains("'wokers'");
        });
    }

    @Test
    void aHostOverrideNamesOneHost() throws IOException {
        Path f = write("hostOverride=127.0.0.1,h=10.0.0.9\n");
        assertThatThrownBy(() -> Config.load(f)).isInstanceOfSatisfying(ShardSchemaException.class, e -> {
            assertThat(e.exitCode()).isEqualTo(2);
            assertThat(e.getMessage()).contains("hostOverride").contains("lists several hosts");
        });
    }

    @Test
    void badLinesAndValuesAreUsageErrorsWithoutEchoingSecrets() throws IOException {
        Path noEquals = write("dbDSN skeema:hunter2@tcp(h)/x\n");
        assertThatThrownBy(() -> Config.load(noEquals)).hasMessageContaining("line 1").hasMessageNotContaining("hunter2");
        Path badDsn = write("dbDSN=skeema:hunter2@tcp(h:port)/x\n");
        assertThatThrownBy(() -> Config.load(badDsn)).isInstanceOfSatisfying(ShardSchemaException.class, e -> {
            assertThat(e.exitCode()).isEqualTo(2);
            assertThat(e.getMessage()).contains("malformed DSN").doesNotContain("hunter2");
        });
        Path badNumber = write("workers=many\n");
        assertThatThrownBy(() -> Config.load(badNumber)).hasMessageContaining("workers");
        Path pasted = write("skeema:hunter2@tcp(10.0.3.87:3306)/shardschema?tls=true\n");
        assertThatThrownBy(() -> Config.load(pasted)).hasMessageContaining("line 1").hasMessageNotContaining("hunter2");
        Path stall = write("heartbeatSeconds=10\nstallSeconds=20\n");
        assertThatThrownBy(() -> Config.load(stall)).hasMessageContaining("stallSeconds");
    }

    @Test
    void anUnquotedSpaceHashStartsACommentAndQuotedValuesKeepTheirHash() throws IOException {
        Config c = Config.load(write("workers=4  # four is enough\nmaxRuns=5\t# tab\n"
                + "apiToken=\"ab #cd\"  # the token\nlogDir=/srv/a#b\npendingDropsDb= _trash # moved tables\n"
                + "ptOscPath='/opt/pt #1/pt-osc'\n"));
        assertThat(c.workers()).isEqualTo(4);
        assertThat(c.maxRuns()).isEqualTo(5);
        assertThat(c.apiToken()).contains("ab #cd");
        assertThat(c.logDir()).isEqualTo(Path.of("/srv/a#b"));
        assertThat(c.pendingDropsDb()).isEqualTo("_trash");
        assertThat(c.ptOscPath()).isEqualTo("/opt/pt #1/pt-osc");
        Path trailing = write("apiToken=\"ab\" cd\n");
        assertThatThrownBy(() -> Config.load(trailing)).isInstanceOfSatisfying(ShardSchemaException.class, e -> {
            assertThat(e.exitCode()).isEqualTo(2);
            assertThat(e.getMessage()).contains("line 1").contains("must end with its quote").doesNotContain("ab");
        });
    }

    @Test
    void numbersOutOfTheirRangeAreUsageErrorsNamingTheRange() throws IOException {
        for (String line : new String[]{"heartbeatSeconds=1000000000", "workers=99999999999999999999",
                "stallSeconds=2147483648", "maxRuns=256", "trashRetentionDays=-1", "lockWaitTimeoutSeconds=0",
                "portOverride=70000", "guardCopyRows=1e6"}) {
            Path f = write(line + "\n");
            String key = line.substring(0, line.indexOf('='));
            assertThatThrownBy(() -> Config.load(f)).as(line).isInstanceOfSatisfying(ShardSchemaException.class, e -> {
                assertThat(e.exitCode()).isEqualTo(2);
                assertThat(e.getMessage()).contains(key).containsPattern("a whole number in \\d+\\.\\.\\d+");
            });
        }
        Config big = Config.load(write("guardTableRows=5000000000\nstallSeconds=86400\nheartbeatSeconds=3600\n"));
        assertThat(big.guardTableRows()).isEqualTo(5_000_000_000L);
        assertThat(big.stallSeconds()).isEqualTo(86400);
    }

    @Test
    void pendingDropsDbMustBeAPlainDatabaseName() throws IOException {
        for (String name : new String[]{"bad.name", "\"a b\"", "\"\"", "mysql", "Information_Schema", "x".repeat(65),
                "tr`ash", "a/b"}) {
            Path f = write("pendingDropsDb=" + name + "\n");
            assertThatThrownBy(() -> Config.load(f)).as(name).isInstanceOfSatisfying(ShardSchemaException.class,
                    e -> assertThat(e.getMessage()).contains("pendingDropsDb").contains("database name"));
        }
        assertThat(Config.load(write("pendingDropsDb=_Pending$drops_2\n")).pendingDropsDb()).isEqualTo("_Pending$drops_2");
    }

    @Test
    void apiHostNamesIsAListOfHostNames() throws IOException {
        assertThat(Config.load(write("workers=3\n")).apiHostNames()).isEmpty();
        assertThat(Config.load(write("apiHostNames = Dash.Example.com, ops-1.example.com,\n")).apiHostNames())
                .containsExactly("dash.example.com", "ops-1.example.com");
        Path bad = write("apiHostNames=dash.example.com/x\n");
        assertThatThrownBy(() -> Config.load(bad)).hasMessageContaining("apiHostNames")
                .hasMessageContaining("comma-separated list of host names");
    }

    @Test
    void resolvesExplicitThenEnvironmentThenEmbedded() throws IOException {
        Path f = write("workers=3\n");
        assertThat(Config.resolve(f, Map.of()).workers()).isEqualTo(3);
        assertThat(Config.resolve(null, Map.of(Config.ENV_VAR, f.toString())).workers()).isEqualTo(3);
        assertThatThrownBy(() -> Config.resolve(dir.resolve("missing.cnf"), Map.of()))
                .hasMessageContaining("cannot read config file");
    }
}
