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
        assertThat(d.jdbcUrl()).isEqualTo("jdbc:mariadb://10.0.3.87:3307/").doesNotContain("s3cr");
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
        assertThat(v6.jdbcUrl()).isEqualTo("jdbc:mariadb://[::1]:3310/");
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
    void theDatabaseNeverGoesIntoTheUrl() {
        Dsn d = Dsn.parse("u@tcp(db1:3306)/caf\u00e9");
        assertThat(d.database()).isEqualTo("caf\u00e9");
        assertThat(d.jdbcUrl()).isEqualTo("jdbc:mariadb://db1:3306/");
    }

    @Test
    void anAddressNamesExactlyOneServer() {
        for (String good : new String[]{"u@tcp(db-1.example.com:3306)/", "u@tcp(db_1)/", "u@tcp(10.0.0.1)/",
                "u@tcp([2001:db8::1]:3307)/", "jdbc:mariadb://db1.internal/x", "u@unix(/run/mysqld/mysqld.sock)/"}) {
            assertThat(Dsn.parse(good).serverKey()).as(good).isNotBlank();
        }
        // A JDBC failover list, pt-osc's own DSN parts, a path where a host goes, sockets pt-osc would split or the
        // kernel cannot bind, and options that pick the server behind the address's back.
        for (String bad : new String[]{"u@tcp(127.0.0.1,h=127.0.0.2)/d", "jdbc:mariadb://127.0.0.1,127.0.0.2/d",
                "u@tcp(h=x,F=/etc/my.cnf)/", "u@tcp(a b)/", "u@tcp(10.0.0.256)/", "u@tcp(-db)/", "u@tcp(h:+80)/",
                "u@tcp([g::1])/", "u@tcp(::1)/", "u@unix(relative.sock)/", "u@unix(/a,F=/etc/my.cnf)/",
                "u@unix(/" + "s".repeat(107) + ")/", "u@tcp(h)/?localSocket=/tmp/x,F=y",
                "jdbc:mariadb://h/d?localSocket=/tmp/a%2CF%3D/x", "u@tcp(h)/?pipe=x",
                "u@tcp(h)/?socketFactory=x.Y", "u@tcp(h\u001b[2J)/"}) {
            assertThatThrownBy(() -> Dsn.parse(bad)).as(bad).isInstanceOfSatisfying(ShardSchemaException.class, e -> {
                assertThat(e.exitCode()).isEqualTo(ShardSchemaException.USAGE);
                assertThat(e.getMessage()).contains("malformed DSN").doesNotContain("\u001b");
            });
        }
        assertThatThrownBy(() -> Dsn.tcp("u", null, "a,h=b", 3306, null)).isInstanceOf(ShardSchemaException.class);
        assertThatThrownBy(() -> Dsn.parse("u@tcp(h)/").withServer("h1,h=h2", null))
                .hasMessageContaining("lists several hosts");
    }

    @Test
    void storedOptionsCannotBecomeOtherOptionsOrAnAddress() {
        Dsn d = Dsn.parse("u@tcp(h:1)/?loc=a%26sslMode%3Ddisable&charset=x%40tcp(evil:2)%2F");
        Dsn again = Dsn.parse(d.toGoForm(false));
        assertThat(again).isEqualTo(d);
        assertThat(again.params()).doesNotContainKey("sslMode");
        assertThat(again.serverKey()).isEqualTo("h:1");
    }

    @Test
    void noPasswordIsEchoedEvenFromTextThatDoesNotParse() {
        for (String bad : new String[]{"admin:hunter2/shardschema", "admin:hunter2(10.0.0.1:3306)/shardschema",
                "jdbc:mariadb://db1/cat?user=u&password=hun&ter2", "jdbc:mariadb://db1/cat?password=hun&ter2&x=1",
                "admin:hun@ter2/db", "admin:hun@ter2(10.0.0.1)/db", "u@tcp(h)/d?password=hun&ter2",
                "jdbc:mariadb://admin:hun/ter2@db1/cat", "jdbc:mariadb://admin:hunter2?x@db1/db",
                "jdbc:mariadb://db1/db?user=u&pass%77ord=hunter2&bad", "jdbc:mariadb:/admin:hunter2@db1/db"}) {
            assertThatThrownBy(() -> Dsn.parse(bad)).as(bad).isInstanceOfSatisfying(ShardSchemaException.class, e -> {
                assertThat(e.exitCode()).isEqualTo(ShardSchemaException.USAGE);
                assertThat(e.getMessage()).contains("malformed DSN").doesNotContain("hunter2").doesNotContain("ter2");
            });
            assertThat(Dsn.mask(bad)).as(bad).doesNotContain("ter2");
        }
    }

    @Test
    void optionNamesAreReadIgnoringCaseAsTheDriverReadsThem() {
        // The driver would connect to the socket named in any spelling of localSocket: it is the address here too.
        Dsn socket = Dsn.parse("u@tcp(db1.example.com:3306)/?LocalSocket=/tmp/evil.sock");
        assertThat(socket.socket()).isEqualTo("/tmp/evil.sock");
        assertThat(socket.serverKey()).isEqualTo("unix:/tmp/evil.sock");
        for (String bad : new String[]{"u@tcp(h)/?PIPE=x", "u@tcp(h)/?SocketFactory=x",
                "u@tcp(h)/?localSocket=/a.sock&LOCALSOCKET=/b.sock", "jdbc:mariadb://h/d?user=a&USER=b"}) {
            assertThatThrownBy(() -> Dsn.parse(bad)).as(bad).isInstanceOf(ShardSchemaException.class);
        }
        assertThat(Dsn.parse("jdbc:mariadb://h/d?USER=a&Password=p").user()).isEqualTo("a");
        assertThat(Dsn.parse("jdbc:mariadb://h/d?USER=a&Password=p").password()).isEqualTo("p");
    }

    @Test
    void aUserNameThatWouldReadBackAsAPasswordIsRefused() {
        assertThatThrownBy(() -> Dsn.parse("jdbc:mariadb://h/d?user=a:b")).isInstanceOf(ShardSchemaException.class)
                .hasMessageContaining("user name with ':'");
    }

    @Test
    void aPortOverrideAlsoOverridesASocket() {
        Dsn moved = Dsn.parse("u@unix(/run/mysqld/mysqld.sock)/").withServer(null, 3307);
        assertThat(moved.socket()).isNull();
        assertThat(moved.port()).isEqualTo(3307);
    }

    @Test
    void badTimeoutsAreUsageErrors() {
        for (String bad : new String[]{"u@tcp(h)/?timeout=99999999999999999999", "u@tcp(h)/?timeout=25h",
                "u@tcp(h)/?timeout=999999999m"}) {
            assertThatThrownBy(() -> Dsn.parse(bad)).as(bad).isInstanceOfSatisfying(ShardSchemaException.class,
                    e -> assertThat(e.getMessage()).contains("timeout=").contains("is not a duration"));
        }
        assertThat(Dsn.parse("u@tcp(h)/?timeout=2m").jdbcProperties().getProperty("connectTimeout")).isEqualTo("120000");
    }

    @Test
    void cleartextAuthenticationIsOffUnlessTheDsnTurnsItOn() {
        assertThat(Dsn.parse("u@tcp(h)/").jdbcProperties().getProperty("restrictedAuth"))
                .contains("mysql_native_password").doesNotContain("mysql_clear_password").doesNotContain("dialog");
        assertThat(Dsn.parse("u@tcp(h)/?restrictedAuth=dialog").jdbcProperties().getProperty("restrictedAuth"))
                .isEqualTo("dialog");
    }
}
