package io.shardschema.config;

import io.shardschema.ShardSchemaException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which servers defaultsFileHosts lets the password go to: a wildcard never stretches to another kind of host. */
class PasswordHostsTest {

    private static boolean allows(String hosts, String dsn) {
        return PasswordHosts.parse(hosts).allows(Dsn.parse(dsn));
    }

    @Test
    void aNumericPatternMatchesIPv4AddressesOnly() {
        assertThat(allows("10.0.3.*", "u@tcp(10.0.3.7)/")).isTrue();
        assertThat(allows("10.0.3.*", "u@tcp(10.0.3.evil)/")).as("a host name made to look like one").isFalse();
        assertThat(allows("10.0.*.*", "u@tcp(10.0.attacker.com)/")).isFalse();
    }

    @Test
    void aWildcardStandsForOneLabelOfAHostName() {
        assertThat(allows("*.db.example.com", "u@tcp(shard7.db.example.com)/")).isTrue();
        assertThat(allows("*.db.example.com", "u@tcp(a.b.db.example.com)/")).isFalse();
        assertThat(allows("*.db.example.com", "u@tcp(DB7.DB.EXAMPLE.COM)/")).isTrue();
        assertThat(allows("*", "u@tcp([2001:db8::bad])/")).as("never an IPv6 address").isFalse();
        assertThat(allows("*", "u@tcp(10.0.0.1)/")).isFalse();
        assertThat(allows("db1:3306", "u@tcp(db1:3307)/")).isFalse();
    }

    @Test
    void anIPv6EntryIsGivenWhole() {
        assertThat(allows("[2001:db8::1]:3306", "u@tcp([2001:db8::1]:3306)/")).isTrue();
        assertThatThrownBy(() -> PasswordHosts.parse("[2001:db8::*]")).isInstanceOf(ShardSchemaException.class);
    }
}
