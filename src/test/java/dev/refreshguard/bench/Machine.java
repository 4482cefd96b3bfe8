package dev.refreshguard.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The machine a run measured on: results only mean something next to it. */
record Machine(int cores, String cpuModel, long memoryMiB, String jdk, String os) {

    static Machine here() {
        String cpu = lines("/proc/cpuinfo").stream().filter(l -> l.startsWith("model name")).findFirst()
                .map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse(System.getProperty("os.arch"));
        long memKiB = lines("/proc/meminfo").stream().filter(l -> l.startsWith("MemTotal:")).findFirst()
                .map(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).orElse(Runtime.getRuntime().maxMemory() / 1024);
        return new Machine(Runtime.getRuntime().availableProcessors(), cpu, memKiB / 1024,
                System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"),
                System.getProperty("os.name") + " " + System.getProperty("os.version"));
    }

    /** The 1, 5 and 15 minute load averages, as /proc/loadavg has them; "unknown" elsewhere. */
    static String load() {
        return lines("/proc/loadavg").stream().findFirst().map(l -> {
            String[] parts = l.trim().split("\\s+");
            return parts[0] + " " + parts[1] + " " + parts[2];
        }).orElse("unknown");
    }

    private static List<String> lines(String file) {
        try {
            return Files.readAllLines(Path.of(file));
        } catch (IOException | SecurityException e) {
            return List.of();
        }
    }
}
