package dev.refreshguard.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The real distribution (keycloak-quarkus-dist zip from Maven Central, unpacked by the build) as a child process,
 * on free ports, on a fresh database of its own ({@link Database#selected()}: PostgreSQL or MariaDB). Its output goes
 * to a log file tests read.
 */
public final class DistributionServer implements KeycloakServer {

    public static final String ADMIN = "admin";
    public static final String ADMIN_PASSWORD = "admin";
    private static final Duration START_TIMEOUT = Duration.ofMinutes(5);

    private final Path home;
    private final Path log;
    /** The database server it runs on: the run's, or e.g. a {@link PrivateDatabase}'s. */
    private final Database db;
    private final String database;
    private final int httpPort;
    private final int managementPort;
    private final List<String> extraOptions;
    private final Map<String, String> extraEnv;
    private Process process;
    private int starts;

    private DistributionServer(Path home, Path workDir, Database db, String database, List<String> extraOptions,
                               Map<String, String> extraEnv) {
        this.home = home;
        this.db = db;
        this.database = database;
        this.extraOptions = extraOptions;
        this.extraEnv = extraEnv;
        this.httpPort = freePort();
        this.managementPort = freePort();
        this.log = workDir.resolve("keycloak-" + database + ".log");
    }

    /** The shared server of a test run, with the JAR from the build. */
    public static DistributionServer startShared() {
        return start("rg_it_" + System.currentTimeMillis(), List.of(), Map.of());
    }

    public static DistributionServer start(String database, List<String> extraOptions, Map<String, String> extraEnv) {
        return start(Path.of(required("keycloak.home")), Database.selected(), database, extraOptions, extraEnv, List.of());
    }

    /**
     * As {@link #start(String, List, Map)}, from a private copy of the distribution (made once per name): the
     * start-dev build of a server with other options cannot rewrite files under servers already running.
     */
    public static DistributionServer startFromCopy(String copyName, String database, List<String> extraOptions,
                                                   Map<String, String> extraEnv) {
        return startFromCopy(copyName, Database.selected(), database, extraOptions, extraEnv, List.of());
    }

    /** As {@link #startFromCopy(String, String, List, Map)}, with test-only provider JARs next to refresh-guard's. */
    public static DistributionServer startFromCopy(String copyName, String database, List<String> extraOptions,
                                                   Map<String, String> extraEnv, List<Path> extraProviders) {
        return startFromCopy(copyName, Database.selected(), database, extraOptions, extraEnv, extraProviders);
    }

    /** As {@link #startFromCopy(String, String, List, Map)}, on another database server, e.g. a {@link PrivateDatabase}. */
    public static DistributionServer startFromCopy(String copyName, Database on, String database, List<String> extraOptions,
                                                   Map<String, String> extraEnv) {
        return startFromCopy(copyName, on, database, extraOptions, extraEnv, List.of());
    }

    private static DistributionServer startFromCopy(String copyName, Database on, String database, List<String> extraOptions,
                                                    Map<String, String> extraEnv, List<Path> extraProviders) {
        Path shared = Path.of(required("keycloak.home"));
        Path copy = Path.of(System.getProperty("it.work.dir", "target/it")).resolve("dist-" + copyName);
        if (!Files.exists(copy)) {
            Path partial = copy.resolveSibling(copy.getFileName() + ".partial-" + System.nanoTime());
            try {
                // The work directory may not exist yet when no other server of this run has started before.
                Files.createDirectories(copy.getParent());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            copyDistribution(shared, partial);
            try {
                Files.move(partial, copy, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return start(copy, on, database, extraOptions, extraEnv, extraProviders);
    }

    private static void copyDistribution(Path from, Path to) {
        try (var files = Files.walk(from)) {
            for (Path source : (Iterable<Path>) files::iterator) {
                Path relative = from.relativize(source);
                if (relative.startsWith("data")) {
                    continue; // the running server's state
                }
                Files.copy(source, to.resolve(relative.toString()), StandardCopyOption.COPY_ATTRIBUTES);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static DistributionServer start(Path home, Database db, String database, List<String> extraOptions,
                                            Map<String, String> extraEnv, List<Path> extraProviders) {
        Path jar = Path.of(required("guard.jar"));
        Path workDir = Path.of(System.getProperty("it.work.dir", "target/it"));
        try {
            Files.createDirectories(workDir);
            Files.createDirectories(home.resolve("providers"));
            Files.copy(jar, home.resolve("providers").resolve("keycloak-refresh-guard.jar"), StandardCopyOption.REPLACE_EXISTING);
            for (Path provider : extraProviders) {
                Files.copy(provider, home.resolve("providers").resolve(provider.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        db.create(database);
        DistributionServer server = new DistributionServer(home, workDir, db, database, extraOptions, extraEnv);
        server.boot();
        return server;
    }

    private void boot() {
        List<String> command = new ArrayList<>(List.of(home.resolve("bin/kc.sh").toString(), "start-dev",
                "--http-port=" + httpPort,
                "--http-management-port=" + managementPort,
                "--health-enabled=true",
                "--metrics-enabled=true",
                "--cache=local"));
        // An extra --db-url (e.g. through a FaultProxy) replaces the database's own: Keycloak takes each option once.
        boolean ownUrl = extraOptions.stream().anyMatch(o -> o.startsWith("--db-url="));
        db.keycloakOptions(database).stream()
                .filter(o -> !(ownUrl && o.startsWith("--db-url=")))
                .forEach(command::add);
        command.addAll(extraOptions);
        ProcessBuilder pb = new ProcessBuilder(command).directory(home.toFile()).redirectErrorStream(true)
                .redirectOutput(starts == 0 ? ProcessBuilder.Redirect.to(log.toFile()) : ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().put("KC_BOOTSTRAP_ADMIN_USERNAME", ADMIN);
        pb.environment().put("KC_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD);
        pb.environment().put("JAVA_OPTS_KC_HEAP", "-Xms256m -Xmx1g");
        pb.environment().putAll(extraEnv);
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        starts++;
        KeycloakProcess.awaitReady(process, managementUrl(), START_TIMEOUT, "Keycloak to become ready (log: " + log + ")", this::tail);
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
        return db.jdbcUrl(database);
    }

    @Override
    public void restart() {
        stopProcess();
        boot();
    }

    public void stopProcess() {
        if (process == null || !process.isAlive()) {
            return;
        }
        process.destroy();
        KeycloakProcess.awaitStopped(process, Duration.ofSeconds(60));
    }

    @Override
    public void close() {
        stopProcess();
        db.drop(database);
    }

    public String tail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private static String required(String property) {
        String value = System.getProperty(property);
        if (value == null) {
            throw new IllegalStateException("system property " + property + " is not set: run the integration tests with `mvn verify`");
        }
        return value;
    }

    private static final int LOWEST_PORT = 20_000;

    /**
     * A port nothing listens on, below the kernel's ephemeral range: a port from that range (what {@code new
     * ServerSocket(0)} hands out) can be taken by any outgoing connection — a JDBC or HTTP client — between this probe
     * and the server's bind, which failed a server start with "Address already in use". Below the range only another
     * listener can take it, and the probe sees those.
     */
    static int freePort() {
        int below = ephemeralLow();
        for (int attempt = 0; attempt < 200 && below > LOWEST_PORT; attempt++) {
            int port = LOWEST_PORT + ThreadLocalRandom.current().nextInt(below - LOWEST_PORT);
            try (ServerSocket socket = new ServerSocket(port)) {
                return port;
            } catch (IOException taken) {
                // another listener has it: try another
            }
        }
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The first port of the kernel's ephemeral range (Linux); 32768, its default, elsewhere. Read by lines: JDK 17's
     * {@code Files.readString} gave "3" for this procfs file (it reports a size of 0), which sent every probe to the
     * ephemeral range.
     */
    static int ephemeralLow() {
        try {
            return Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return 32_768;
        }
    }

    /**
     * Kept for tests written before {@link Database}: the user name is ignored wherever the JDBC URL names its own
     * (every {@link KeycloakServer#jdbcUrl()} does). New code uses {@link Database#connect(String)}.
     */
    public static final class Postgres {
        public static final String USER = "postgres";

        private Postgres() {
        }
    }
}
