package io.shardschema.config;

import io.shardschema.ShardSchemaException;
import org.junit.jupiter.api.Test;

import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DsnTest {

    @Test
    void parsesTheGoDriverForm() {
        Dsn d = Dsn.parse("skeema:s3cr@t@tcp(10.0.3.87:3307)/shardschema?timeout=5s&tls=skip-verify");
        assertThat(d.user()).isEqualTo("skeema");
        assertThat(d.password()).isEqualTo("s3cr@t");
        assertThat(d.host()).isEqualTo("10.0.3.87");
        assertThat(d.port()).isEqualTo(3307);
        assertThat(d.database()).isEqualTo("shardschema");
        assertThat(d.serverKey()).isEqualTo("10.0.3.87:3307");
        Properties p = d.jdbcProperties();
        assertThat(p.getProperty("connectTimeout")).isEqualTo("5000");
        assertThat(p.getProperty("sslMode")).isEqualTo("trust");
        assertThat(d.jdbcUrl()).isEqualTo("jdbc:mariadb://10.0.3.87:3307/shardschema").doesNotContain("s3cr");
    }

    @Test
    void defaultsPortAndAcceptsUnixSocketsAndIpv6() {
        assertThat(Dsn.parse("u@tcp(db1)/x").port()).isEqualTo(3306);
        Dsn sock = Dsn.parse("u@unix(/run/mysqld/mysqld.sock)/app");
        assertThat(sock.socket()).isEqualTo("/run/mysqld/mysqld.sock");
        assertThat(sock.database()).isEqualTo("app");
        assertThat(sock.jdbcProperties().getProperty("localSocket")).isEqualTo("/run/mysqld/mysqld.sock");
        Dsn v6 = Dsn.parse("u:p@tcp([::1]:3310)/x");
        assertThat(v6.host()).isEqualTo("::1");
        assertThat(v6.port()).isEqualTo(3310);
        assertThat(v6.jdbcUrl()).isEqualTo("jdbc:mariadb://[::1]:3310/x");
    }

    @Test
    void parsesJdbcUrlsAndKeepsCredentialsOutOfTheUrl() {
        Dsn d = Dsn.parse("jdbc:mysql://db2:3308/cat?user=admin&password=pw1&connectTimeout=2000");
        assertThat(d.user()).isEqualTo("admin");
        assertThat(d.password()).isEqualTo("pw1");
        assertThat(d.port()).isEqualTo(3308);
        assertThat(d.jdbcUrl()).doesNotContain("pw1").doesNotContain("admin");
        assertThat(d.jdbcProperties().getProperty("connectTimeout")).isEqualTo("2000");
    }

    @Test
    void tlsOptionsReachTheDriver() {
        Properties p = Dsn.parse("u:p@tcp(h:3306)/d?tls=true&ssl-ca=/etc/ca.pem").jdbcProperties();
        assertThat(p.getProperty("sslMode")).isEqualTo("verify-full");
        assertThat(p.getProperty("serverSslCert")).isEqualTo("/etc/ca.pem");
        Properties native_ = Dsn.parse("jdbc:mariadb://h/d?sslMode=verify-ca&keyStore=/k.p12&keyStorePassword=x")
                .jdbcProperties();
        assertThat(native_.getProperty("sslMode")).isEqualTo("verify-ca");
        assertThat(native_.getProperty("keyStore")).isEqualTo("/k.p12");
        assertThatThrownBy(() -> Dsn.parse("u@tcp(h)/d?tls=maybe").jdbcProperties())
                .isInstanceOf(ShardSchemaException.class).hasMessageContaining("tls=maybe");
        assertThatThrownBy(() -> Dsn.parse("u@tcp(h)/d?ssl-cert=/c.pem").jdbcProperties())
                .hasMessageContaining("ssl-cert and ssl-key go together");
    }

    @Test
    void neverShowsThePassword() {
        Dsn d = Dsn.parse("u:topsecret@tcp(h:1)/d?keyStorePassword=ks");
        assertThat(d.toString()).doesNotContain("topsecret").doesNotContain("=ks").contains("u:***@tcp(h:1)/d");
        assertThat(Dsn.mask("jdbc:mariadb://h/d?user=u&password=topsecret")).doesNotContain("topsecret");
        assertThat(d.toGoForm(true)).contains("topsecret");
    }

    @Test
    void malformedDsnsAreUsageErrorsThatHideThePassword() {
        for (String bad : new String[]{"u:topsecret@tcp(h:abc)/d", "u:topsecret@tcp(h:1)", "u:topsecret@udp(h)/d",
                "u:topsecret@tcp(h:99999)/d", "jdbc:oracle://h/d?password=topsecret", "", "u:topsecret@tcp(:1)/d"}) {
            assertThatThrownBy(() -> Dsn.parse(bad)).as(bad)
                    .isInstanceOfSatisfying(ShardSchemaException.class, e -> {
                        assertThat(e.exitCode()).isEqualTo(ShardSchemaException.USAGE);
                        assertThat(e.getMessage()).contains("DSN").doesNotContain("topsecret");
                    });
        }
    }

    @Test
    void passwordsMayHoldAnyCharacterAndNeverLeak() {
        Dsn d = Dsn.parse("app:pa(ss@w/o?rd)@tcp(db1:3306)/cat?tls=false");
        assertThat(d.password()).isEqualTo("pa(ss@w/o?rd)");
        assertThat(d.host()).isEqualTo("db1");
        assertThat(d.database()).isEqualTo("cat");
        assertThat(d.params()).containsEntry("tls", "false");
        assertThat(Dsn.parse("u:a+b%@/d").password()).isEqualTo("a+b%");
        assertThat(Dsn.parse("u:p@unix(/run/my.sock)/d").socket()).isEqualTo("/run/my.sock");
        for (String bad : new String[]{"app:pa(ss@tcp(db1:x)/cat", "jdbc:mariadb://app:topsecret@db1:3306/cat",
                "jdbc:mysql://app:topsecret@db1/cat", "jdbc:mariadb://db1/cat?user=u&password=50%off"}) {
            assertThatThrownBy(() -> Dsn.parse(bad)).as(bad).isInstanceOfSatisfying(ShardSchemaException.class, e -> {
                assertThat(e.exitCode()).isEqualTo(ShardSchemaException.USAGE);
                assertThat(e.getMessage()).doesNotContain("topsecret").doesNotContain("pa(ss").doesNotContain("50%off");
            });
        }
    }

    @Test
    void storedFormDropsEverySecret() {
        Dsn d = Dsn.parse("u:pw@tcp(h:1)/d?password=pw2&keyStorePassword=ks&tls=true");
        assertThat(d.hasPassword()).isTrue();
        Dsn stored = d.withoutPassword();
        assertThat(stored.hasPassword()).isFalse();
        assertThat(stored.toGoForm(true)).isEqualTo("u@tcp(h:1)/d?tls=true");
    }

    @Test
    void anOverlongTimeoutIsAUsageErrorNotAnOverflow() {
        for (String timeout : new String[]{"99999999999999999999", "153722867280912931m", "61m"}) {
            Dsn d = Dsn.parse("u@tcp(h:3306)/x?timeout=" + timeout);
            assertThatThrownBy(d::jdbcProperties).as(timeout).isInstanceOfSatisfying(ShardSchemaException.class, e -> {
                assertThat(e.exitCode()).isEqualTo(2);
                assertThat(e.getMessage()).contains("timeout=" + timeout + " is more than 60m");
            });
        }
        assertThat(Dsn.parse("u@tcp(h:3306)/x?timeout=60m").jdbcProperties().getProperty("connectTimeout"))
                .isEqualTo("3600000");
    }
}
