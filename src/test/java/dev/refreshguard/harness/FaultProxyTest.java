package dev.refreshguard.harness;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The fault proxy's four faults, against a plain loopback server standing in for the database (no Keycloak): what
 * the client side and the "database" side each see.
 */
class FaultProxyTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private ServerSocket database;
    private final BlockingQueue<Socket> accepted = new LinkedBlockingQueue<>();
    private FaultProxy proxy;

    @BeforeEach
    void databaseAndProxy() throws IOException {
        database = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            while (!database.isClosed()) {
                try {
                    accepted.add(database.accept());
                } catch (IOException closed) {
                    return;
                }
            }
        }, "fake-database");
        acceptor.setDaemon(true);
        acceptor.start();
        proxy = FaultProxy.to("127.0.0.1:" + database.getLocalPort());
    }

    @AfterEach
    void close() throws IOException {
        proxy.close();
        database.close();
        for (Socket socket : accepted) {
            socket.close();
        }
    }

    @Test
    void forwardsBothWaysAndAddsLatencyPerRoundTrip() throws Exception {
        try (Socket client = connect()) {
            Socket server = databaseSide();
            roundTrip(client, server);
            proxy.latency(Duration.ofMillis(300));
            long slow = roundTrip(client, server);
            assertThat(Duration.ofNanos(slow)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
            proxy.latency(Duration.ZERO);
            roundTrip(client, server);
            assertThat(proxy.openConnections()).isEqualTo(1);
            assertThat(proxy.messagesToDatabase()).as("one message to the database per round trip").isEqualTo(3);
        }
    }

    @Test
    void cutClosesBothSidesOfEveryConnection() throws Exception {
        try (Socket client = connect()) {
            Socket server = databaseSide();
            proxy.cut();
            assertThat(endOfStream(client)).as("client side").isTrue();
            assertThat(endOfStream(server)).as("database side").isTrue();
            Await.until(WAIT, "no open connection", () -> proxy.openConnections() == 0);
        }
    }

    @Test
    void refusingResetsNewConnectionsBeforeTheyReachTheDatabase() throws Exception {
        proxy.refuse(true);
        try (Socket client = connect()) {
            assertThat(endOfStream(client)).isTrue();
        }
        assertThat(accepted.poll(500, TimeUnit.MILLISECONDS)).as("a connection reaching the database").isNull();
        proxy.refuse(false);
        try (Socket client = connect()) {
            roundTrip(client, databaseSide());
        }
    }

    @Test
    void aVanishedClientLeavesTheDatabaseSideOpenAndSilentUntilReleased() throws Exception {
        try (Socket client = connect()) {
            Socket server = databaseSide();
            roundTrip(client, server);
            assertThat(proxy.vanish()).isEqualTo(1);
            assertThat(endOfStream(client)).as("client side").isTrue();
            // The database hears nothing: no FIN, no data, within a generous read timeout.
            server.setSoTimeout(1000);
            try {
                int read = server.getInputStream().read();
                throw new AssertionError("the database side heard " + (read < 0 ? "the end of the stream" : "data"));
            } catch (SocketTimeoutException silent) {
                // as a host that vanished
            }
            proxy.releaseVanished();
            assertThat(endOfStream(server)).as("database side after release").isTrue();
        }
    }

    private Socket connect() throws IOException {
        int colon = proxy.address().lastIndexOf(':');
        Socket socket = new Socket(proxy.address().substring(0, colon), Integer.parseInt(proxy.address().substring(colon + 1)));
        socket.setSoTimeout((int) WAIT.toMillis());
        return socket;
    }

    private Socket databaseSide() throws InterruptedException {
        Socket server = accepted.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(server).as("the connection reached the database").isNotNull();
        // The database side is accepted a moment before the proxy lists the link; a fault sent earlier would miss it.
        Await.until(WAIT, "the proxy lists the connection", () -> proxy.openConnections() == 1);
        return server;
    }

    /** One byte from the client to the database and back; nanoseconds. */
    private static long roundTrip(Socket client, Socket server) throws IOException {
        server.setSoTimeout((int) WAIT.toMillis());
        long start = System.nanoTime();
        client.getOutputStream().write(42);
        client.getOutputStream().flush();
        assertThat(server.getInputStream().read()).isEqualTo(42);
        server.getOutputStream().write(43);
        server.getOutputStream().flush();
        assertThat(client.getInputStream().read()).isEqualTo(43);
        return System.nanoTime() - start;
    }

    /** Whether the peer closed or reset the connection (rather than sending data). */
    private static boolean endOfStream(Socket socket) throws IOException {
        socket.setSoTimeout((int) WAIT.toMillis());
        InputStream in = socket.getInputStream();
        try {
            return in.read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }
}
