package io.shardschema.server;

import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** Which Host headers the server answers (DNS rebinding): its addresses and names, and only those. */
class AllowedHostsTest {
    private final AllowedHosts hosts = new AllowedHosts(List.of("dash.example.test"));

    @Test
    void loopbackAddressesLocalhostAndTheConfiguredNamesWithOrWithoutAPort() {
        assertThat(List.of("localhost", "LocalHost:8080", "localhost.", "127.0.0.1", "127.0.0.1:9", "127.4.5.6:80",
                "[::1]", "[::1]:8080", "[0:0:0:0:0:0:0:1]:1", "dash.example.test", "DASH.example.test:443"))
                .allSatisfy(h -> assertThat(hosts.allows(h)).as(h).isTrue());
    }

    @Test
    void thisMachinesNamesAndAddresses() throws Exception {
        InetAddress machine = InetAddress.getLocalHost();
        assertThat(hosts.allows(machine.getHostName() + ":8080")).isTrue();
        assertThat(hosts.allows(machine.getCanonicalHostName())).isTrue();
        ownAddress().ifPresent(a -> assertThat(hosts.allows(a.getHostAddress() + ":8080")).as(a.toString()).isTrue());
    }

    @Test
    void otherNamesAndAddressesAndOddFormsAreRefused() {
        assertThat(new String[]{null, "", ":8080", "rebind.example", "rebind.example:8080", "localhost.rebind.example",
                "127.0.0.1.rebind.example", "dash.example.test.rebind.example", "192.0.2.254", "8.8.8.8:80",
                "127.000.000.001", "2130706433", "0x7f.0.0.1", "127.1", "[::1", "[::1%lo]", "[2001:db8::1]"})
                .allSatisfy(h -> assertThat(hosts.allows(h)).as(String.valueOf(h)).isFalse());
        assertThat(new AllowedHosts(List.of()).allows("dash.example.test")).as("not configured").isFalse();
    }

    /** A non-loopback IPv4 address of this machine, if it has one. */
    static Optional<InetAddress> ownAddress() throws SocketException {
        return NetworkInterface.networkInterfaces().filter(AllowedHostsTest::up)
                .flatMap(NetworkInterface::inetAddresses)
                .filter(a -> a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress())
                .findFirst();
    }

    private static boolean up(NetworkInterface i) {
        try {
            return i.isUp();
        } catch (SocketException e) {
            return false;
        }
    }
}
