package dev.refreshguard.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

import dev.refreshguard.harness.DistributionServer;

/**
 * Where the server's CPU goes while it serves refresh chains of the protected and the stock realm: a Java Flight
 * Recording of a server of its own (async-profiler is not at hand), read back with the JDK's JFR API.
 * <p>
 * refresh-guard wraps Keycloak's own steps (its provider calls {@code super.refreshAccessToken}, its response
 * builder calls {@code super.build}), so a refresh-guard frame on the stack does not make a sample refresh-guard's
 * cost. A sample is refresh-guard's own when the refresh-guard frame nearest the top of the stack is executing
 * itself or calls something other than the Keycloak method it overrides.
 */
final class CpuProfile {

    private static final String GUARD_PACKAGE = "dev.refreshguard.";
    private static final String REQUEST_THREADS = "executor-thread";
    private static final int TOP = 10;
    private static final Map<String, String> LIBRARIES = libraries();

    /**
     * @param requestSamples execution samples of Keycloak's request threads
     * @param wrapped        those with a refresh-guard frame anywhere on the stack (mostly Keycloak's work inside it)
     * @param own            those that are refresh-guard's own work
     * @param ownMethods     the refresh-guard method nearest the top of the stack, for the own samples
     * @param ownLeaves      what the own samples were executing at the top of the stack
     * @param refreshErrors  refreshes that failed in the profiled rounds, warm-ups included
     */
    record Profile(Path recording, int requestSamples, int wrapped, int own, Map<String, Integer> ownMethods,
                   Map<String, Integer> ownLeaves, Gap gap, int refreshErrors) {
        double ownShare() {
            return requestSamples == 0 ? 0 : (double) own / requestSamples;
        }
    }

    /**
     * The protected realm's rounds against the reference realm's, each in time windows of its own: request-thread
     * samples per 1,000 refreshes by the component at work (the first frame below the JDK's), and bytes allocated
     * per refresh (JFR's allocation samples, all threads).
     */
    record Gap(long protectedRefreshes, long referenceRefreshes, Map<String, double[]> samplesPerThousand,
               Map<String, double[]> methodsPerThousand, double protectedBytes, double referenceBytes) {
    }

    /** The time a realm's measured round ran, on the machine's clock (JFR stamps events with it too). */
    private record Window(boolean protectedRealm, Instant start, Instant end, long refreshes) {
    }
    private CpuProfile() {
    }

    private static Map<String, String> libraries() {
        Map<String, String> names = new LinkedHashMap<>();
        names.put("dev.refreshguard.", "refresh-guard");
        names.put("org.postgresql.", "PostgreSQL JDBC driver");
        names.put("io.agroal.", "Agroal (connection pool)");
        names.put("com.arjuna.", "Narayana (JTA)");
        names.put("io.narayana.", "Narayana (JTA)");
        names.put("org.hibernate.", "Hibernate");
        names.put("org.infinispan.", "Infinispan");
        names.put("org.keycloak.", "Keycloak");
        names.put("io.netty.", "Netty / Vert.x (HTTP)");
        names.put("io.vertx.", "Netty / Vert.x (HTTP)");
        names.put("io.quarkus.", "Quarkus");
        names.put("org.jboss.resteasy.", "RESTEasy");
        names.put("com.fasterxml.", "Jackson");
        return names;
    }

    static Profile measure(BenchSettings settings) {
        Path recording = settings.outDir().toAbsolutePath().resolve("refresh.jfr");
        try {
            Files.createDirectories(recording.getParent());
            Files.deleteIfExists(recording);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Window> windows = new ArrayList<>();
        int refreshErrors;
        DistributionServer server = DistributionServer.start("rg_bench_jfr_" + System.currentTimeMillis(), List.of(),
                Map.of("JAVA_OPTS_APPEND", "-XX:StartFlightRecording=settings=profile,dumponexit=true,filename=" + recording));
        try {
            BenchRealms realms = BenchRealms.create(server, settings.clients(), settings.graceSeconds());
            try (RefreshRounds p = new RefreshRounds(server, "protected", realms.guarded().name, BenchRealms.CLIENT, realms.users());
                 RefreshRounds s = new RefreshRounds(server, "stock", realms.stock().name, BenchRealms.CLIENT, realms.users());
                 RefreshRounds r = new RefreshRounds(server, "default", realms.reference().name, BenchRealms.CLIENT, realms.users())) {
                p.loginAll();
                s.loginAll();
                r.loginAll();
                for (int i = 0; i < settings.warmup() + settings.rounds(); i++) {
                    boolean measured = i >= settings.warmup();
                    window(p, true, settings, measured, windows);
                    s.round(settings.chain());
                    window(r, false, settings, measured, windows);
                }
                refreshErrors = p.errors() + s.errors() + r.errors();
            }
        } finally {
            server.close(); // the recording is written as the server exits
        }
        return read(recording, windows, refreshErrors);
    }

    private static void window(RefreshRounds rounds, boolean protectedRealm, BenchSettings settings, boolean measured,
                               List<Window> into) {
        Instant start = Instant.now();
        Latencies round = rounds.round(settings.chain());
        if (measured) {
            into.add(new Window(protectedRealm, start, Instant.now(), round.stats().requests()));
        }
    }

    static Profile read(Path recording, List<Window> windows, int refreshErrors) {
        long[] refreshes = new long[2];
        windows.forEach(w -> refreshes[w.protectedRealm() ? 0 : 1] += w.refreshes());
        Map<String, long[]> components = new TreeMap<>();
        Map<String, long[]> atWork = new TreeMap<>();
        double[] bytes = new double[2];
        int requestSamples = 0;
        int wrapped = 0;
        int own = 0;
        Map<String, Integer> methods = new LinkedHashMap<>();
        Map<String, Integer> leaves = new LinkedHashMap<>();
        try (RecordingFile file = new RecordingFile(recording)) {
            while (file.hasMoreEvents()) {
                RecordedEvent event = file.readEvent();
                Window window = windowOf(windows, event.getStartTime());
                if ("jdk.ObjectAllocationSample".equals(event.getEventType().getName()) && window != null) {
                    bytes[window.protectedRealm() ? 0 : 1] += event.getLong("weight");
                }
                if (!"jdk.ExecutionSample".equals(event.getEventType().getName())) {
                    continue;
                }
                var thread = event.getThread("sampledThread");
                RecordedStackTrace stack = event.getStackTrace();
                if (thread == null || stack == null || thread.getJavaName() == null
                        || !thread.getJavaName().startsWith(REQUEST_THREADS)) {
                    continue;
                }
                requestSamples++;
                List<RecordedFrame> frames = stack.getFrames(); // the top of the stack first
                if (window != null) {
                    components.computeIfAbsent(component(frames), c -> new long[2])[window.protectedRealm() ? 0 : 1]++;
                    atWork.computeIfAbsent(firstBelowJdk(frames), c -> new long[2])[window.protectedRealm() ? 0 : 1]++;
                }
                int guard = 0;
                while (guard < frames.size() && !isGuard(frames.get(guard))) {
                    guard++;
                }
                if (guard == frames.size()) {
                    continue;
                }
                wrapped++;
                boolean delegating = guard > 0 && frames.get(guard - 1).getMethod().getName()
                        .equals(frames.get(guard).getMethod().getName());
                if (!delegating) {
                    own++;
                    methods.merge(name(frames.get(guard)), 1, Integer::sum);
                    leaves.merge(name(frames.get(0)), 1, Integer::sum);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + recording, e);
        }
        Map<String, double[]> perThousand = perThousand(components, refreshes, Integer.MAX_VALUE);
        Map<String, double[]> methodsPerThousand = perThousand(atWork, refreshes, TOP + 5);
        Gap gap = new Gap(refreshes[0], refreshes[1], perThousand, methodsPerThousand, bytes[0] / Math.max(1, refreshes[0]),
                bytes[1] / Math.max(1, refreshes[1]));
        return new Profile(recording, requestSamples, wrapped, own, top(methods), top(leaves), gap, refreshErrors);
    }

    /** Counts per 1,000 refreshes of each realm, the largest excess of the protected realm first. */
    private static Map<String, double[]> perThousand(Map<String, long[]> counts, long[] refreshes, int limit) {
        Map<String, double[]> result = new LinkedHashMap<>();
        counts.entrySet().stream()
                .map(e -> Map.entry(e.getKey(), new double[] {1000.0 * e.getValue()[0] / Math.max(1, refreshes[0]),
                        1000.0 * e.getValue()[1] / Math.max(1, refreshes[1])}))
                .sorted(Comparator.comparingDouble(e -> e.getValue()[1] - e.getValue()[0]))
                .limit(limit)
                .forEach(e -> result.put(e.getKey(), e.getValue()));
        return result;
    }

    private static Window windowOf(List<Window> windows, Instant at) {
        for (Window w : windows) {
            if (!at.isBefore(w.start()) && at.isBefore(w.end())) {
                return w;
            }
        }
        return null;
    }

    private static String firstBelowJdk(List<RecordedFrame> frames) {
        return frames.stream().filter(f -> !isJdk(f)).findFirst().map(CpuProfile::name).orElse("JDK");
    }

    private static boolean isJdk(RecordedFrame frame) {
        String type = frame.getMethod().getType().getName();
        return type.startsWith("java.") || type.startsWith("jdk.") || type.startsWith("sun.") || type.startsWith("javax.");
    }

    /** Who is at work: the first frame from the top that is not the JDK's, named by its library. */
    private static String component(List<RecordedFrame> frames) {
        for (RecordedFrame frame : frames) {
            if (isJdk(frame)) {
                continue;
            }
            String type = frame.getMethod().getType().getName();
            for (Map.Entry<String, String> library : LIBRARIES.entrySet()) {
                if (type.startsWith(library.getKey())) {
                    return library.getValue();
                }
            }
            String[] parts = type.split("\\.");
            return parts.length > 2 ? parts[0] + "." + parts[1] + "." + parts[2] : type;
        }
        return "JDK";
    }

    private static boolean isGuard(RecordedFrame frame) {
        return frame.getMethod().getType().getName().startsWith(GUARD_PACKAGE);
    }

    private static String name(RecordedFrame frame) {
        String type = frame.getMethod().getType().getName();
        return type.substring(type.lastIndexOf('.') + 1) + "." + frame.getMethod().getName();
    }

    private static Map<String, Integer> top(Map<String, Integer> counts) {
        return counts.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(TOP)
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, LinkedHashMap::new));
    }
}
