package dev.refreshguard.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A database server process of the test's own, of the run's kind ({@link Database#selected()}: PostgreSQL or
 * MariaDB), on a free port of 127.0.0.1, in a fresh data directory: for the faults that the machine's shared database
 * must not suffer, such as a restart of the server process. {@link #stop()} ends the server at once (PostgreSQL
 * {@code pg_ctl -m immediate}, MariaDB SIGKILL), as a crash or a fail-over does: every connection drops, nothing is
 * flushed politely; {@link #startAgain()} starts it on the same port and data, through crash recovery.
 * Credentials as on the shared servers (PostgreSQL user postgres with trust auth; MariaDB root without password), so
 * {@link #database()} is a {@link Database} like the selected one. As root the server runs as user nobody.
 */
public final class PrivateDatabase implements AutoCloseable {

    private static final Duration STEP = Duration.ofMinutes(3);
    private static final List<String> AS_NOBODY = List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--");

    private final Path dir;
    private final int port = DistributionServer.freePort();
    private final boolean mariaDb;
    private final Database database;
    private final Thread cleanup = new Thread(this::stopAndDelete);
    /** MariaDB's server process (PostgreSQL's is pg_ctl's, found by its data directory). */
    private Process mariadbd;
    private Path postgresBin;

    private PrivateDatabase(Path dir, boolean mariaDb) {
        this.dir = dir;
        this.mariaDb = mariaDb;
        this.database = mariaDb ? new Database.MariaDb("127.0.0.1:" + port)
                : new Database.Postgres("127.0.0.1", port, "a private PostgreSQL on 127.0.0.1:" + port);
    }

    /** Creates and starts a server of the run's kind; {@link #close()} stops it and deletes its data. */
    public static PrivateDatabase start() {
        boolean mariaDb = "mariadb".equals(Database.selected().kind());
        Path dir;
        try {
            dir = Files.createTempDirectory("refresh-guard-private-db-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        PrivateDatabase server = new PrivateDatabase(dir, mariaDb);
        Runtime.getRuntime().addShutdownHook(server.cleanup);
        try {
            server.init();
            server.startAgain();
            return server;
        } catch (RuntimeException | Error e) {
            server.close();
            throw e;
        }
    }

    /** The server as a {@link Database}: create, Keycloak's options, JDBC URLs. */
    public Database database() {
        return database;
    }

    /** host:port of the server. */
    public String address() {
        return "127.0.0.1:" + port;
    }

    /** Ends the server process at once: every connection drops. Returns when nothing listens any more. */
    public void stop() {
        if (mariaDb) {
            if (mariadbd != null && mariadbd.isAlive()) {
                mariadbd.destroyForcibly();
                try {
                    mariadbd.waitFor(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        } else {
            run(unprivileged(), postgresBin.resolve("bin/pg_ctl").toString(), "-D", dir.resolve("data").toString(),
                    "-m", "immediate", "-w", "stop");
        }
        Await.until(Duration.ofSeconds(30), this + " to stop listening", () -> !Database.answers("127.0.0.1", port));
    }

    /** Starts the server (again) on its port and data; returns once it lets the harness log in. */
    public void startAgain() {
        if (mariaDb) {
            List<String> command = new ArrayList<>(List.of("mariadbd", "--no-defaults", "--datadir=" + dir.resolve("data"),
                    "--port=" + port, "--bind-address=127.0.0.1", "--socket=" + dir.resolve("mysqld.sock"),
                    "--pid-file=" + dir.resolve("mysqld.pid"), "--log-error=" + dir.resolve("error.log"),
                    "--innodb-buffer-pool-size=64M", "--max-connections=200",
                    // as the machine's MariaDB the other legs run on
                    "--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci"));
            if (root()) {
                command.add("--user=nobody");
            }
            try {
                mariadbd = new ProcessBuilder(command).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("stdout.log").toFile())).start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        } else {
            run(unprivileged(), postgresBin.resolve("bin/pg_ctl").toString(), "-D", dir.resolve("data").toString(),
                    "-l", dir.resolve("server.log").toString(), "-w", "-t", "180",
                    "-o", "-h 127.0.0.1 -p " + port + " -k " + dir + " -F"
                            // -Dit.private-db.log-statements=true: every statement and commit in its log, to follow a fault
                            + (Boolean.getBoolean("it.private-db.log-statements") ? " -c log_statement=all" : ""),
                    "start");
        }
        Await.until(STEP, this + " to let the harness log in (logs in " + dir + ")", this::letsIn);
    }

    @Override
    public void close() {
        stopAndDelete();
        try {
            Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException exiting) {
            // the hook runs anyway
        }
    }

    @Override
    public String toString() {
        return (mariaDb ? "a private MariaDB" : "a private PostgreSQL") + " on 127.0.0.1:" + port;
    }

    private void init() {
        if (root()) {
            run(List.of(), "chown", "-R", "nobody", dir.toString());
            try {
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        if (mariaDb) {
            List<String> command = new ArrayList<>(List.of("mariadb-install-db", "--no-defaults", "--datadir=" + dir.resolve("data"),
                    "--auth-root-authentication-method=normal", "--skip-test-db"));
            if (root()) {
                command.add("--user=nobody");
            }
            run(List.of(), command.toArray(String[]::new));
        } else {
            postgresBin = postgresBinaries();
            run(unprivileged(), postgresBin.resolve("bin/initdb").toString(), "-A", "trust", "-U", "postgres", "-E", "UTF-8",
                    "--no-locale", "-D", dir.resolve("data").toString());
        }
    }

    /** The machine's PostgreSQL binaries (the newest version installed), else the embedded ones. */
    private static Path postgresBinaries() {
        Path installed = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(installed)) {
            try (Stream<Path> versions = Files.list(installed)) {
                var newest = versions.filter(v -> Files.isExecutable(v.resolve("bin/pg_ctl")))
                        .filter(v -> v.getFileName().toString().matches("\\d+"))
                        .max(Comparator.comparingInt(v -> Integer.parseInt(v.getFileName().toString())));
                if (newest.isPresent()) {
                    return newest.get();
                }
            } catch (IOException e) {
                // fall back to the embedded binaries
            }
        }
        return EmbeddedPostgres.binaries();
    }

    private boolean letsIn() {
        if (mariaDb && mariadbd != null && !mariadbd.isAlive()) {
            throw new AssertionError(this + " exited with " + mariadbd.exitValue() + "; see " + dir.resolve("error.log"));
        }
        if (!Database.answers("127.0.0.1", port)) {
            return false;
        }
        try (Connection c = DriverManager.getConnection(database.adminUrl())) {
            return true;
        } catch (SQLException e) {
            return false;
        }
    }

    private void stopAndDelete() {
        try {
            if (mariaDb || postgresBin != null) {
                if (Database.answers("127.0.0.1", port)) {
                    stop();
                }
            }
        } catch (RuntimeException | Error e) {
            System.err.println(this + " did not stop: " + e.getMessage());
        }
        // Its log stays with the run's other logs, for reading after a failure.
        Path log = dir.resolve(mariaDb ? "error.log" : "server.log");
        try {
            if (Files.exists(log)) {
                Path workDir = Path.of(System.getProperty("it.work.dir", "target/it"));
                Files.createDirectories(workDir);
                Files.copy(log, workDir.resolve("private-" + database.kind() + "-" + port + ".log"),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            // only the log is at stake
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // only disk space is at stake
        }
    }

    private static boolean root() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static List<String> unprivileged() {
        return root() ? AS_NOBODY : List.of();
    }

    private static void run(List<String> prefix, String... command) {
        List<String> full = new ArrayList<>(prefix);
        full.addAll(List.of(command));
        try {
            Process process = new ProcessBuilder(full).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes());
            if (!process.waitFor(STEP.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(full + " did not finish within " + STEP);
            }
            if (process.exitValue() != 0) {
                throw new IllegalStateException(full + " failed with " + process.exitValue() + ":\n" + output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
