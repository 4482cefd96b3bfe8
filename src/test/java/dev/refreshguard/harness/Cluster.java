package dev.refreshguard.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keycloak as it runs in production: several nodes of the real distribution, built once with {@code kc.sh build}
 * (the run's {@link Database}, Keycloak's default distributed caches {@code cache=ispn}) and started with
 * {@code kc.sh start --optimized}. The nodes share one fresh database and find each other through Keycloak's
 * default discovery, JDBC ping ({@code cache-stack=jdbc-ping}), on 127.0.0.1. All nodes answer for one public
 * hostname, as they would behind a load balancer, so a token minted by one node is valid on every other.
 * Each node runs from its own copy of the distribution (its own data/ directory, e.g. transaction logs).
 */
public final class Cluster implements AutoCloseable {

    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(10);
    private static final Duration START_TIMEOUT = Duration.ofMinutes(8);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(90);
    /** Infinispan's line for each new JGroups view: "... for channel ISPN: [coordinator|id] (members) [...]". */
    private static final Pattern VIEW = Pattern.compile("ISPN000094: Received new cluster view for channel ISPN: \\[[^\\]]*\\] \\((\\d+)\\)");
    /** JGroups' FD_SOCK2 listens on the transport port + 50000 (Infinispan's jdbc-ping stack default offset). */
    private static final int FD_SOCK_OFFSET = 50_000;

    private final Path workDir;
    private final String database;
    private final String hostname;
    private final List<Node> nodes = new ArrayList<>();
    /** Runtime options every node starts with, e.g. refresh-guard's SPI options. */
    private static final int NODE_POOL = 35;
    private static final int CONNECTION_MARGIN = 10;
    private static final Duration CONNECTION_ROOM_TIMEOUT = Database.POOL_CONNECTION_LIFETIME.multipliedBy(4);
    private List<String> extraOptions = List.of();
    /** host:port through which a node reaches the database (e.g. a {@link FaultProxy}), by node number; others directly. */
    private Map<Integer, String> databasePaths = Map.of();
    private int fullRestarts;

    private Cluster(Path workDir, String database, String hostname) {
        this.workDir = workDir;
        this.database = database;
        this.hostname = hostname;
    }

    /** Builds the distribution once, copies it per node, starts the nodes one after another and waits for one cluster. */
    public static Cluster start(int size) {
        return start(size, List.of());
    }

    /** As {@link #start(int)}, every node with the given runtime options (e.g. {@code --spi-...}). */
    public static Cluster start(int size, List<String> extraOptions) {
        return start(size, extraOptions, Map.of());
    }

    /**
     * As {@link #start(int, List)}, node N reaching the database through {@code databasePaths.get(N)} (host:port, e.g.
     * {@link FaultProxy#address()}) where given: a fault on that path hits that node alone.
     */
    public static Cluster start(int size, List<String> extraOptions, Map<Integer, String> databasePaths) {
        Path dist = Path.of(required("keycloak.home"));
        Path jar = Path.of(required("guard.jar"));
        long id = System.currentTimeMillis();
        Path work = Path.of(System.getProperty("it.work.dir", "target/it")).resolve("cluster-" + id).toAbsolutePath();
        String database = "rg_cluster_" + id;
        Database.selected().create(database);
        // The address clients and a load balancer would use: the issuer of every token, whichever node mints it.
        Cluster cluster = new Cluster(work, database, "http://localhost:" + DistributionServer.freePort());
        cluster.extraOptions = List.copyOf(extraOptions);
        cluster.databasePaths = Map.copyOf(databasePaths);
        try {
            Path built = work.resolve("dist");
            copyTree(dist, built);
            Files.createDirectories(built.resolve("providers"));
            Files.copy(jar, built.resolve("providers").resolve("keycloak-refresh-guard.jar"), StandardCopyOption.REPLACE_EXISTING);
            cluster.build(built);
            Set<Integer> taken = new HashSet<>();
            for (int i = 1; i <= size; i++) {
                Path home = work.resolve("node-" + i);
                copyTree(built, home);
                cluster.nodes.add(new Node(cluster, i, home, work.resolve("node-" + i + ".log"), clusterPort(taken)));
            }
            deleteTree(built);
            cluster.awaitConnectionRoom();
            // The first node creates the schema and the bootstrap admin alone; the others join it.
            for (Node node : cluster.nodes) {
                node.boot();
            }
            cluster.awaitOneCluster();
            return cluster;
        } catch (IOException e) {
            cluster.close();
            throw new UncheckedIOException(e);
        } catch (RuntimeException | Error e) {
            cluster.close();
            throw e;
        }
    }

    public List<Node> nodes() {
        return List.copyOf(nodes);
    }

    /** Node 1, 2, ... */
    public Node node(int number) {
        return nodes.get(number - 1);
    }

    public int size() {
        return nodes.size();
    }

    public String jdbcUrl() {
        return Database.selected().jdbcUrl(database);
    }

    public String hostname() {
        return hostname;
    }

    public List<Path> logFiles() {
        return nodes.stream().map(Node::logFile).toList();
    }

    /** How often {@link #restartAll()} ran. */
    public int fullRestarts() {
        return fullRestarts;
    }

    /** Stops every node (none left running), then starts them all again and waits until they form one cluster. */
    public void restartAll() {
        for (Node node : nodes) {
            node.signalStop();
        }
        for (Node node : nodes) {
            node.awaitStopped();
        }
        // The database holds every node's state now; start them together, as after an outage.
        ExecutorService starter = Executors.newFixedThreadPool(nodes.size());
        try {
            List<Future<?>> starts = new ArrayList<>();
            for (Node node : nodes) {
                starts.add(starter.submit(node::boot));
            }
            for (Future<?> start : starts) {
                start.get(START_TIMEOUT.toSeconds() + 60, TimeUnit.SECONDS);
            }
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("nodes did not start again within " + START_TIMEOUT, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            starter.shutdownNow();
        }
        awaitOneCluster();
        fullRestarts++;
    }

    /**
     * Until the database server has room for every node's full pool (and a margin for the tests' own queries):
     * a server started earlier in the run gives back its connections within {@link Database#POOL_CONNECTION_LIFETIME}.
     */
    private void awaitConnectionRoom() {
        int needed = nodes.size() * NODE_POOL + CONNECTION_MARGIN;
        Database.ConnectionRoom[] seen = {Database.selected().connectionRoom()};
        try {
            Await.until(CONNECTION_ROOM_TIMEOUT, "room for " + needed + " database connections (" + nodes.size() + " pools of "
                    + NODE_POOL + ", " + CONNECTION_MARGIN + " for the tests)", () -> (seen[0] = Database.selected().connectionRoom()).free() >= needed);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; " + seen[0].free() + " free, held: " + seen[0].holders(), e);
        }
    }

    /** Until every node's latest cluster view, since its last start, has all nodes in it. */
    public void awaitOneCluster() {
        Await.until(START_TIMEOUT, "one cluster view with " + nodes.size() + " members on every node (logs in " + workDir + ")",
                () -> nodes.stream().allMatch(n -> n.latestViewSize() == nodes.size()));
    }

    @Override
    public void close() {
        for (Node node : nodes) {
            node.signalStop();
        }
        for (Node node : nodes) {
            node.awaitStopped();
        }
        Database.selected().drop(database);
        // The copies are ~200 MB each; the logs stay next to them for reading.
        for (Node node : nodes) {
            deleteTree(node.home);
        }
        deleteTree(workDir.resolve("dist"));
    }

    private void build(Path home) throws IOException {
        Path log = workDir.resolve("build.log");
        Process build = new ProcessBuilder(home.resolve("bin/kc.sh").toString(), "build",
                "--db=" + Database.selected().kind(), "--cache=ispn", "--health-enabled=true", "--metrics-enabled=true")
                .directory(home.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            if (!build.waitFor(BUILD_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                build.destroyForcibly();
                throw new AssertionError("kc.sh build did not finish within " + BUILD_TIMEOUT + "; log: " + log);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        if (build.exitValue() != 0) {
            throw new AssertionError("kc.sh build failed with " + build.exitValue() + ":\n" + Files.readString(log));
        }
    }

    /** A free port for the JGroups transport whose failure-detection port (+50000) is free too, so below 15536. */
    private static int clusterPort(Set<Integer> taken) {
        for (int attempt = 0; attempt < 500; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(7800, 15_500);
            if (!taken.contains(port) && free(port) && free(port + FD_SOCK_OFFSET)) {
                taken.add(port);
                return port;
            }
        }
        throw new IllegalStateException("no free pair of cluster ports below 15500");
    }

    private static boolean free(int port) {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
            socket.setReuseAddress(true);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Path relative = from.relativize(dir);
                // data/ is a node's own (transaction logs, caches); never share or inherit it.
                if (relative.toString().equals("data")) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                Files.createDirectories(to.resolve(relative.toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.copy(file, to.resolve(from.relativize(file).toString()), StandardCopyOption.COPY_ATTRIBUTES,
                        StandardCopyOption.REPLACE_EXISTING);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                    Files.delete(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            // Only disk space is at stake; the next `mvn clean` removes what is left.
        }
    }

    private static String required(String property) {
        String value = System.getProperty(property);
        if (value == null) {
            throw new IllegalStateException("system property " + property + " is not set: run the integration tests with `mvn verify`");
        }
        return value;
    }

    /** One node: a KeycloakServer like the shared one, so TestRealm, Admin and Oidc work against it. */
    public static final class Node implements KeycloakServer {

        private final Cluster cluster;
        private final int number;
        private final Path home;
        private final Path log;
        private final int httpPort = DistributionServer.freePort();
        private final int managementPort = DistributionServer.freePort();
        private final int clusterPort;
        private Process process;
        private long logOffset;

        private Node(Cluster cluster, int number, Path home, Path log, int clusterPort) {
            this.cluster = cluster;
            this.number = number;
            this.home = home;
            this.log = log;
            this.clusterPort = clusterPort;
        }

        public int number() {
            return number;
        }

        @Override
        public String baseUrl() {
            return "http://localhost:" + httpPort;
        }

        @Override
        public String managementUrl() {
            return "http://localhost:" + managementPort;
        }

        @Override
        public Path logFile() {
            return log;
        }

        @Override
        public String jdbcUrl() {
            return cluster.jdbcUrl();
        }

        /** Restarts this node alone and waits until it is back in the cluster. */
        @Override
        public void restart() {
            signalStop();
            awaitStopped();
            boot();
            cluster.awaitOneCluster();
        }

        @Override
        public void close() {
            signalStop();
            awaitStopped();
        }

        /** Stops this node as an operator does (SIGTERM: Keycloak's graceful shutdown) and waits until it has. */
        public void stop() {
            signalStop();
            awaitStopped();
        }

        /** Kills this node at once (SIGKILL), as a crash would: no shutdown hook, no last write. */
        public void kill() {
            if (process != null && process.isAlive()) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                awaitStopped();
            }
        }

        @Override
        public String toString() {
            return "node " + number + " (" + baseUrl() + ")";
        }

        void boot() {
            List<String> command = new ArrayList<>(List.of(home.resolve("bin/kc.sh").toString(), "start", "--optimized",
                    "--http-enabled=true",
                    "--hostname=" + cluster.hostname,
                    "--http-port=" + httpPort,
                    "--http-management-port=" + managementPort,
                    "--cache-embedded-network-bind-address=127.0.0.1",
                    "--cache-embedded-network-bind-port=" + clusterPort,
                    // Two nodes beside the shared test server on one PostgreSQL (max_connections 100 by default):
                    // Keycloak's default pool of 100 per node let a 50-racer test exhaust the database ("too many
                    // clients"). The racers split over the nodes, so 35 per node leaves headroom for both.
                    "--db-pool-max-size=" + NODE_POOL));
            // --db itself is a build option, fixed by kc.sh build above
            String path = cluster.databasePaths.get(number);
            command.addAll(Database.selected().keycloakOptions(cluster.database).stream()
                    .filter(option -> !option.startsWith("--db="))
                    .map(option -> path != null && option.startsWith("--db-url=")
                            ? "--db-url=" + Database.selected().keycloakUrlThrough(cluster.database, path) : option)
                    .toList());
            command.addAll(cluster.extraOptions);
            try {
                logOffset = Files.exists(log) ? Files.size(log) : 0;
                ProcessBuilder pb = new ProcessBuilder(command).directory(home.toFile()).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
                pb.environment().put("KC_BOOTSTRAP_ADMIN_USERNAME", DistributionServer.ADMIN);
                pb.environment().put("KC_BOOTSTRAP_ADMIN_PASSWORD", DistributionServer.ADMIN_PASSWORD);
                pb.environment().put("JAVA_OPTS_KC_HEAP", "-Xms128m -Xmx768m");
                process = pb.start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            KeycloakProcess.awaitReady(process, managementUrl(), START_TIMEOUT, this + " to become ready (log: " + log + ")", this::tail);
        }

        void signalStop() {
            if (process != null && process.isAlive()) {
                process.destroy();
            }
        }

        void awaitStopped() {
            if (process != null) {
                KeycloakProcess.awaitStopped(process, STOP_TIMEOUT);
            }
        }

        /** Members in the newest cluster view this node logged since its last start; 0 before the first. */
        int latestViewSize() {
            Matcher m = VIEW.matcher(sinceStart());
            int size = 0;
            while (m.find()) {
                size = Integer.parseInt(m.group(1));
            }
            return size;
        }

        private String sinceStart() {
            try {
                byte[] all = Files.readAllBytes(log);
                int from = (int) Math.min(logOffset, all.length);
                return new String(all, from, all.length - from, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        }

        private String tail() {
            String text = sinceStart();
            return text.length() > 6000 ? text.substring(text.length() - 6000) : text;
        }
    }
}
