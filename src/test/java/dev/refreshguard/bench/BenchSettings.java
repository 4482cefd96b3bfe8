package dev.refreshguard.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What one benchmark run does. {@code short} keeps the benchmark alive in every build (well under two minutes);
 * {@code full} is the measurement people read. Every number can be overridden with {@code -Dbench.<name>=...}.
 *
 * @param clients      concurrent clients per refresh round, each with its own connection and refresh-token chain
 * @param rounds       measured rounds per realm, interleaved protected/stock
 * @param chain        refreshes each client makes per round, each with the newest refresh token
 * @param warmup       unmeasured rounds per realm before the measured ones
 * @param logins       password-grant logins per realm
 * @param grace        pairs of (normal refresh, grace replay) on a client with a grace window
 * @param rotations    rotations of the one family whose stored row is measured
 * @param graceSeconds the grace window of the grace client
 * @param sql          also count the SQL statements per request, on a second server of its own that logs them
 * @param jfr          also record where the CPU goes (Java Flight Recorder), on a server of its own
 * @param scale        also measure with a big family table (seeded by SQL) and one purge pass, on a server of its own
 * @param scaleRows    rows seeded into RG_FAMILY for the scale phase
 * @param manyFamilies families of the one user whose families page is timed
 * @param sweep        also the latency sweep: protected, stock and the one-write reference realm, on a server of its
 *                     own whose database connections pass a {@code FaultProxy} adding each of {@code sweepLatencies}
 * @param sweepLatencies  milliseconds added per round trip to the database, one sweep point each
 * @param sweepRounds  measured rounds per realm and sweep point
 * @param sweepWarmup  unmeasured rounds per realm and sweep point
 */
record BenchSettings(String mode, int clients, int rounds, int chain, int warmup, int logins, int grace, int rotations,
                     int graceSeconds, boolean sql, boolean jfr, boolean scale, int scaleRows, int manyFamilies,
                     boolean sweep, List<Integer> sweepLatencies, int sweepRounds, int sweepWarmup, Path outDir) {

    static BenchSettings fromSystemProperties() {
        String mode = System.getProperty("bench.mode", "short").trim();
        boolean full = switch (mode) {
            case "full" -> true;
            case "short" -> false;
            default -> throw new IllegalArgumentException("bench.mode accepts 'short' or 'full'; got '" + mode + "'");
        };
        Path out = Path.of(System.getProperty("bench.out",
                Path.of(System.getProperty("project.basedir", ".")).resolve("target/benchmark").toString()));
        return new BenchSettings(mode,
                number("clients", full ? 8 : 5),
                number("rounds", full ? 12 : 2),
                number("chain", full ? 50 : 10),
                number("warmup", full ? 3 : 1),
                number("logins", full ? 100 : 10),
                number("grace", full ? 300 : 20),
                number("rotations", full ? 10_000 : 200),
                number("graceSeconds", 30),
                flag("sql", full),
                flag("jfr", false),
                flag("scale", true),
                number("scaleRows", full ? 10_000_000 : 20_000),
                number("manyFamilies", full ? 10_000 : 1_000),
                flag("sweep", full),
                latencies(System.getProperty("bench.sweepLatencies", "0,1,2,5")),
                number("sweepRounds", full ? 8 : 2),
                number("sweepWarmup", full ? 2 : 1),
                out);
    }

    private static List<Integer> latencies(String raw) {
        List<Integer> out = new ArrayList<>();
        for (String part : raw.split(",")) {
            int ms = Integer.parseInt(part.trim());
            if (ms < 0) {
                throw new IllegalArgumentException("bench.sweepLatencies takes milliseconds ≥ 0; got " + raw);
            }
            out.add(ms);
        }
        return List.copyOf(out);
    }

    private static boolean flag(String name, boolean fallback) {
        return Boolean.parseBoolean(System.getProperty("bench." + name, String.valueOf(fallback)).trim());
    }

    private static int number(String name, int fallback) {
        String raw = System.getProperty("bench." + name);
        if (raw == null || raw.isBlank()) {
            return fallback;
        }
        int value = Integer.parseInt(raw.trim());
        if (value < 1) {
            throw new IllegalArgumentException("bench." + name + " must be at least 1; got " + value);
        }
        return value;
    }
}
