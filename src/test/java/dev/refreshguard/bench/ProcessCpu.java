package dev.refreshguard.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * CPU time spent by each party of a refresh — Keycloak's JVM, PostgreSQL's processes and the load generator — read
 * from {@code /proc} before and after a round. Latency on a shared 2-core machine is mostly waiting for a core, so
 * the CPU a realm's refresh costs, and who spends it, is what explains a latency ratio between realms.
 * <p>
 * Linux only; elsewhere every figure is zero. PostgreSQL is every process named {@code postgres} (a quiet machine
 * has no other client of it); Keycloak is the JVM whose command line carries the server's HTTP port.
 */
final class ProcessCpu {

    private static final Path PROC = Path.of("/proc");
    /** USER_HZ: /proc/<pid>/stat counts in clock ticks of 1/100 s on every Linux this runs on. */
    private static final long NANOS_PER_TICK = 10_000_000L;

    /** CPU nanoseconds consumed so far; subtract two to get a round's. */
    record Sample(long keycloak, long database, long client) {
        Sample minus(Sample earlier) {
            return new Sample(keycloak - earlier.keycloak, database - earlier.database, client - earlier.client);
        }

        Sample plus(Sample other) {
            return new Sample(keycloak + other.keycloak, database + other.database, client + other.client);
        }

        long total() {
            return keycloak + database + client;
        }
    }

    static final Sample NONE = new Sample(0, 0, 0);

    /** The measured refresh rounds' CPU of each realm, and how many refreshes it bought. */
    record ByRealm(Sample protectedRealm, Sample stock, Sample reference, long protectedRequests, long stockRequests,
                   long referenceRequests) {
        /** False when /proc could not be read (not Linux) or the Keycloak JVM was not found. */
        boolean measured() {
            return protectedRealm.keycloak() > 0;
        }
    }

    private final long keycloakPid;

    private ProcessCpu(long keycloakPid) {
        this.keycloakPid = keycloakPid;
    }

    /** Finds the Keycloak JVM listening on the port of {@code baseUrl}. */
    static ProcessCpu of(String baseUrl) {
        String port = "--http-port=" + baseUrl.substring(baseUrl.lastIndexOf(':') + 1);
        return new ProcessCpu(processes().filter(pid -> cmdline(pid).contains(port) && comm(pid).equals("java"))
                .findFirst().orElse(-1L));
    }

    Sample now() {
        long database = processes().filter(pid -> comm(pid).equals("postgres")).mapToLong(ProcessCpu::ticks).sum();
        long client = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
        return new Sample(keycloakPid < 0 ? 0 : ticks(keycloakPid) * NANOS_PER_TICK, database * NANOS_PER_TICK, client);
    }

    private static Stream<Long> processes() {
        List<Long> pids = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(PROC, p -> p.getFileName().toString().chars().allMatch(Character::isDigit))) {
            entries.forEach(p -> pids.add(Long.parseLong(p.getFileName().toString())));
        } catch (IOException | SecurityException e) {
            return Stream.empty();
        }
        return pids.stream();
    }

    /** utime + stime of a process, in clock ticks; 0 when it is gone. */
    private static long ticks(long pid) {
        String stat = read(PROC.resolve(pid + "/stat"));
        int end = stat.lastIndexOf(')');
        if (end < 0) {
            return 0;
        }
        String[] fields = stat.substring(end + 2).split(" ");
        // After "pid (comm) ": state is field 3, utime field 14, stime field 15.
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    private static String comm(long pid) {
        return read(PROC.resolve(pid + "/comm")).trim();
    }

    private static String cmdline(long pid) {
        return read(PROC.resolve(pid + "/cmdline")).replace('\0', ' ');
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException | SecurityException | UncheckedIOException e) {
            return "";
        }
    }
}
