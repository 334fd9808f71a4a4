package io.shardschema.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fake MySQL server on 127.0.0.1 that harvests passwords: it greets like MariaDB, takes the client's login, asks
 * it to switch to an authentication method of the test's choice ({@code dialog}, {@code mysql_clear_password}),
 * records every byte the client sends, and then refuses the login. Connections are handled one at a time.
 */
public final class FakeMysqlServer implements AutoCloseable {
    private static final int CAPABILITIES = 0x1 | 0x2 | 0x4 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x10000 | 0x20000
            | 0x40000 | 0x80000 | 0x100000 | 0x200000;

    private final ServerSocket socket;
    private final String switchTo;
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();
    private final AtomicInteger connections = new AtomicInteger();
    private final Thread acceptor;

    /** Listens on a free port and asks every client to switch to the method {@code switchTo}. */
    public FakeMysqlServer(String switchTo) throws IOException {
        this.socket = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
        this.switchTo = switchTo;
        this.acceptor = new Thread(this::serve, "fake-mysql-" + socket.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return socket.getLocalPort();
    }

    /** How many clients connected. */
    public int connections() {
        return connections.get();
    }

    /** Everything the clients sent, as ISO-8859-1 text (so any byte sequence shows). */
    public synchronized String received() {
        return received.toString(StandardCharsets.ISO_8859_1);
    }

    private void serve() {
        while (!socket.isClosed()) {
            try (Socket client = socket.accept()) {
                connections.incrementAndGet();
                client.setSoTimeout(5_000);
                talk(client.getInputStream(), client.getOutputStream());
            } catch (IOException e) {
                // The client gave up (as it should) or the server was closed: next one.
            }
        }
    }

    private void talk(InputStream in, OutputStream out) throws IOException {
        ByteArrayOutputStream greeting = new ByteArrayOutputStream();
        greeting.write(10);
        greeting.write("5.5.5-10.11.6-MariaDB-fake\0".getBytes(StandardCharsets.US_ASCII));
        greeting.write(new byte[]{7, 0, 0, 0});
        greeting.write("abcdefgh".getBytes(StandardCharsets.US_ASCII));
        greeting.write(0);
        greeting.write(CAPABILITIES & 0xff);
        greeting.write((CAPABILITIES >> 8) & 0xff);
        greeting.write(45);
        greeting.write(new byte[]{2, 0});
        greeting.write((CAPABILITIES >> 16) & 0xff);
        greeting.write((CAPABILITIES >> 24) & 0xff);
        greeting.write(21);
        greeting.write(new byte[10]);
        greeting.write("ijklmnopqrst\0".getBytes(StandardCharsets.US_ASCII));
        greeting.write("mysql_native_password\0".getBytes(StandardCharsets.US_ASCII));
        send(out, 0, greeting.toByteArray());
        if (!receive(in)) {
            return;
        }
        ByteArrayOutputStream authSwitch = new ByteArrayOutputStream();
        authSwitch.write(0xfe);
        authSwitch.write((switchTo + "\0").getBytes(StandardCharsets.US_ASCII));
        // dialog's prompt: type 4 (password, echo off), then its text.
        authSwitch.write(4);
        authSwitch.write("Password: ".getBytes(StandardCharsets.US_ASCII));
        send(out, 2, authSwitch.toByteArray());
        if (!receive(in)) {
            return;
        }
        ByteArrayOutputStream denied = new ByteArrayOutputStream();
        denied.write(0xff);
        denied.write(new byte[]{0x15, 0x04});
        denied.write("#28000Access denied (fake server)".getBytes(StandardCharsets.US_ASCII));
        send(out, 4, denied.toByteArray());
    }

    private static void send(OutputStream out, int sequence, byte[] payload) throws IOException {
        out.write(new byte[]{(byte) payload.length, (byte) (payload.length >> 8), (byte) (payload.length >> 16),
                (byte) sequence});
        out.write(payload);
        out.flush();
    }

    /** Reads one packet into {@link #received}; false when the client closed the connection instead. */
    private boolean receive(InputStream in) throws IOException {
        byte[] header = in.readNBytes(4);
        if (header.length < 4) {
            return false;
        }
        int length = (header[0] & 0xff) | (header[1] & 0xff) << 8 | (header[2] & 0xff) << 16;
        byte[] payload = in.readNBytes(length);
        synchronized (this) {
            received.write(payload);
        }
        return payload.length == length;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
