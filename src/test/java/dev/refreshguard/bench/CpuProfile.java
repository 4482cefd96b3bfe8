package dev.refreshguard.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

    /**
     * @param requestSamples execution samples of Keycloak's request threads
     * @param wrapped        those with a refresh-guard frame anywhere on the stack (mostly Keycloak's work inside it)
     * @param own            those that are refresh-guard's own work
     * @param ownMethods     the refresh-guard method nearest the top of the stack, for the own samples
     * @param ownLeaves      what the own samples were executing at the top of the stack
     */
    record Profile(Path recording, int requestSamples, int wrapped, int own, Map<String, Integer> ownMethods,
                   Map<String, Integer> ownLeaves) {
        double ownShare() {
            return requestSamples == 0 ? 0 : (double) own / requestSamples;
        }
    }
    private CpuProfile() {
    }

    static Profile measure(BenchSettings settings) {
        Path recording = settings.outDir().toAbsolutePath().resolve("refresh.jfr");
        try {
            Files.createDirectories(recording.getParent());
            Files.deleteIfExists(recording);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        DistributionServer server = DistributionServer.start("rg_bench_jfr_" + System.currentTimeMillis(), List.of(),
                Map.of("JAVA_OPTS_APPEND", "-XX:StartFlightRecording=settings=profile,dumponexit=true,filename=" + recording));
        try {
            BenchRealms realms = BenchRealms.create(server, settings.clients(), settings.graceSeconds());
            try (RefreshRounds p = new RefreshRounds(server, "protected", realms.guarded().name, BenchRealms.CLIENT, realms.users());
                 RefreshRounds s = new RefreshRounds(server, "stock", realms.stock().name, BenchRealms.CLIENT, realms.users())) {
                p.loginAll();
                s.loginAll();
                for (int i = 0; i < settings.warmup() + settings.rounds(); i++) {
                    p.round(settings.chain());
                    s.round(settings.chain());
                }
            }
        } finally {
            server.close(); // the recording is written as the server exits
        }
        return read(recording);
    }

    static Profile read(Path recording) {
        int requestSamples = 0;
        int wrapped = 0;
        int own = 0;
        Map<String, Integer> methods = new LinkedHashMap<>();
        Map<String, Integer> leaves = new LinkedHashMap<>();
        try (RecordingFile file = new RecordingFile(recording)) {
            while (file.hasMoreEvents()) {
                RecordedEvent event = file.readEvent();
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
        return new Profile(recording, requestSamples, wrapped, own, top(methods), top(leaves));
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
