package dev.refreshguard.harness;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A TCP proxy on loopback in front of the database, for fault tests: Keycloak (or a test's own JDBC connection) talks
 * to {@link #address()} and the proxy forwards to the database. Faults, each at once for every connection:
 * <ul>
 *   <li>{@link #cut()}: close both sides of every connection, as a database crash or fail-over does;</li>
 *   <li>{@link #refuse(boolean)}: new connections are reset as soon as they arrive, as while a database is down;</li>
 *   <li>{@link #vanish()}: the client side of every connection is gone (reset) but the database side stays open and
 *       silent — a host that vanished: the database never hears that its client left, so its open transactions
 *       and row locks stay until {@link #releaseVanished()} closes the database side (or the database's own
 *       timeouts end them);</li>
 *   <li>{@link #latency(Duration)}: every chunk from the client waits this long before it is forwarded (one round
 *       trip of a request-reply protocol pays it once).</li>
 * </ul>
 * Plain blocking sockets, two daemon threads per connection; nothing is static.
 */
public final class FaultProxy implements AutoCloseable {

    private final InetSocketAddress target;
    private final ServerSocket listener;
    private final List<Link> links = new CopyOnWriteArrayList<>();
    /** Database sides kept open after {@link #vanish()}. */
    private final List<Socket> held = new CopyOnWriteArrayList<>();
    /** Reads from a client forwarded to the database: about one per round trip of a request-reply protocol. */
    private final AtomicLong toDatabase = new AtomicLong();
    private volatile boolean refusing;
    private volatile long latencyNanos;
    private volatile boolean closed;
    private int accepted;

    private FaultProxy(InetSocketAddress target) {
        this.target = target;
        try {
            listener = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Thread acceptor = new Thread(this::accept, "fault-proxy-" + listener.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** A proxy to {@code host:port} (e.g. {@link Database#address()}), listening on a free loopback port. */
    public static FaultProxy to(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        return new FaultProxy(new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1))));
    }

    /** host:port clients connect to instead of the database. */
    public String address() {
        return "127.0.0.1:" + listener.getLocalPort();
    }

    /** Connections forwarding now (each a client and a database side). */
    public int openConnections() {
        return links.size();
    }

    /** Connections accepted and forwarded since the start. */
    public synchronized int acceptedConnections() {
        return accepted;
    }

    /**
     * Chunks forwarded from clients to the database since the start. A JDBC driver writes a statement (with its
     * implicit begin) or a commit as one message and waits for the answer, so the difference over a span of
     * requests counts their round trips (a large message split by TCP would count twice).
     */
    public long messagesToDatabase() {
        return toDatabase.get();
    }

    /** Closes both sides of every connection now. New connections are still forwarded unless {@link #refuse}d. */
    public void cut() {
        for (Link link : links) {
            link.closeBoth();
        }
    }

    /** While true, every new connection is reset at once (nothing reaches the database). */
    public void refuse(boolean refuse) {
        this.refusing = refuse;
    }

    /** Delay added to every chunk sent from a client to the database; {@link Duration#ZERO} for none. */
    public void latency(Duration perRoundTrip) {
        this.latencyNanos = perRoundTrip.toNanos();
    }

    /**
     * Every current connection's client side is reset, its database side kept open and never read: for the database,
     * the client is still there, idle in its transaction, holding its locks. Returns how many were held.
     */
    public int vanish() {
        int count = 0;
        for (Link link : links) {
            links.remove(link);
            held.add(link.database);
            link.vanishClient();
            count++;
        }
        return count;
    }

    /** Closes the database side of every vanished connection: the database ends their transactions and frees their locks. */
    public void releaseVanished() {
        for (Socket socket : held) {
            closeQuietly(socket);
        }
        held.clear();
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(listener);
        cut();
        releaseVanished();
    }

    private void accept() {
        while (!closed) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                continue;
            }
            if (refusing) {
                reset(client);
                continue;
            }
            Socket database = new Socket();
            try {
                database.connect(target, 5_000);
                client.setTcpNoDelay(true);
                database.setTcpNoDelay(true);
            } catch (IOException e) {
                reset(client);
                closeQuietly(database);
                continue;
            }
            Link link = new Link(client, database);
            links.add(link);
            synchronized (this) {
                accepted++;
            }
            link.start();
        }
    }

    /** One proxied connection: a pump per direction. */
    private final class Link {
        final Socket client;
        final Socket database;
        private volatile boolean vanished;

        Link(Socket client, Socket database) {
            this.client = client;
            this.database = database;
        }

        void start() {
            pump(client, database, true, "to-db");
            pump(database, client, false, "to-client");
        }

        private void pump(Socket from, Socket to, boolean delayed, String name) {
            Thread thread = new Thread(() -> {
                byte[] buffer = new byte[16 * 1024];
                // Not try-with-resources: closing a stream closes its socket, and a vanished link keeps the database side.
                try {
                    InputStream in = from.getInputStream();
                    OutputStream out = to.getOutputStream();
                    int n;
                    while ((n = in.read(buffer)) >= 0) {
                        long delay = latencyNanos;
                        if (delayed && delay > 0) {
                            LockSupport.parkNanos(delay); // the fault itself: the wire is slow
                        }
                        if (vanished) {
                            return;
                        }
                        if (delayed) {
                            toDatabase.incrementAndGet();
                        }
                        out.write(buffer, 0, n);
                        out.flush();
                    }
                } catch (IOException e) {
                    // one side closed or was reset: the link ends below
                } finally {
                    if (!vanished) {
                        closeBoth();
                    }
                }
            }, "fault-proxy-" + listener.getLocalPort() + "-" + name);
            thread.setDaemon(true);
            thread.start();
        }

        void closeBoth() {
            links.remove(this);
            reset(client);
            closeQuietly(database);
        }

        /**
         * The client side is reset; the database side stays open. Its pump thread stays blocked reading the
         * database (which sends nothing to an idle client) and returns on {@link #releaseVanished()}.
         */
        void vanishClient() {
            vanished = true;
            reset(client);
        }
    }

    /** Closes with RST (linger 0), as a vanished or refusing peer does, rather than a polite FIN. */
    private static void reset(Socket socket) {
        try {
            socket.setSoLinger(true, 0);
        } catch (SocketException e) {
            // closed already
        }
        closeQuietly(socket);
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception e) {
            // closing is all we want
        }
    }

    @Override
    public String toString() {
        return "fault proxy " + address() + " -> " + target.getHostString() + ":" + target.getPort();
    }
}
