package dev.refreshguard.bench;

import java.util.Arrays;

/** Per-request latencies of one kind of request (nanoseconds), with the wall time spent and the failures seen. */
final class Latencies {

    private long[] nanos = new long[1024];
    private int count;
    private long wallNanos;
    private int errors;

    synchronized void add(long requestNanos) {
        if (count == nanos.length) {
            nanos = Arrays.copyOf(nanos, count * 2);
        }
        nanos[count++] = requestNanos;
    }

    synchronized void addAll(Latencies other) {
        long[] theirs;
        synchronized (other) {
            theirs = Arrays.copyOf(other.nanos, other.count);
            wallNanos += other.wallNanos;
            errors += other.errors;
        }
        for (long n : theirs) {
            add(n);
        }
    }

    synchronized void addWall(long roundNanos) {
        wallNanos += roundNanos;
    }

    synchronized void error() {
        errors++;
    }

    synchronized Stats stats() {
        long[] sorted = Arrays.copyOf(nanos, count);
        Arrays.sort(sorted);
        double mean = count == 0 ? 0 : Arrays.stream(sorted).average().orElse(0) / 1e6;
        double throughput = wallNanos == 0 ? 0 : count / (wallNanos / 1e9);
        return new Stats(count, errors, percentile(sorted, 50), percentile(sorted, 95), percentile(sorted, 99), mean,
                throughput);
    }

    /** Nearest-rank percentile in milliseconds. */
    private static double percentile(long[] sorted, int p) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, rank - 1)] / 1e6;
    }

    /**
     * @param throughput completed requests per second of wall time (0 where the requests were not timed as a load)
     */
    record Stats(int requests, int errors, double p50, double p95, double p99, double mean, double throughput) {
    }
}
