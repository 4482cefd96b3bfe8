package dev.refreshguard.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

import dev.refreshguard.Jar;
import dev.refreshguard.bench.Latencies.Stats;
import dev.refreshguard.bench.onewrite.OneWriteListenerFactory;
import dev.refreshguard.harness.Http;

/** Writes report.md, report.json and latency.svg of one run. */
final class Report {

    static final String MARKDOWN = "report.md";
    static final String JSON = "report.json";
    static final String CHART = "latency.svg";

    private Report() {
    }

    static List<Path> write(Results r, Path dir) {
        try {
            Files.createDirectories(dir);
            Path md = Files.writeString(dir.resolve(MARKDOWN), markdown(r));
            Path json = dir.resolve(JSON);
            Http.JSON.writerWithDefaultPrettyPrinter().writeValue(json.toFile(), json(r));
            Path svg = Files.writeString(dir.resolve(CHART), LatencyChart.svg(r));
            return List.of(md, json, svg);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- Markdown ----

    static String markdown(Results r) {
        BenchSettings s = r.settings();
        Machine m = r.machine();
        StringBuilder out = new StringBuilder();
        out.append("# refresh-guard benchmark: the cost of protection\n\n");
        out.append("Mode `").append(s.mode()).append("`, ").append(r.startedAt()).append(". Keycloak ")
                .append(keycloakVersion()).append(", refresh-guard ").append(Jar.VERSION)
                .append(", one server on PostgreSQL; every realm measured in the same run.\n\n");
        out.append("Machine: ").append(m.cores()).append(" cores, ").append(m.cpuModel()).append(", ")
                .append(m.memoryMiB()).append(" MiB memory, ").append(m.jdk()).append(", ").append(m.os())
                .append(". Load average (1/5/15 min) before: ").append(r.loadBefore()).append(", after: ")
                .append(r.loadAfter()).append(". Client and server share the machine. The timed phases took ")
                .append(r.timedSeconds()).append(" s.\n\n");

        out.append("## Refresh chains\n\n");
        out.append(s.clients()).append(" concurrent clients, each logged in once, then ").append(s.chain())
                .append(" refreshes per round with the newest refresh token; ").append(s.warmup())
                .append(" warm-up and ").append(s.rounds()).append(" measured rounds per realm, interleaved in a"
                        + " rotating order (P S R, S R P, R P S, ...). Protected (P): listener `refresh-guard`, grace 0,"
                        + " `revoke-family`. Stock (S): Keycloak's own *Revoke Refresh Token* on, max reuse 0."
                        + " Reference (R): Keycloak's defaults. Event store off in all three (Keycloak's default).\n\n");
        out.append("| realm | requests | errors | p50 ms | p95 ms | p99 ms | mean ms | throughput req/s |\n");
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        out.append(row("protected", r.refreshProtected()));
        out.append(row("stock", r.refreshStock()));
        out.append(ratioRow("**protected / stock**", r.refreshProtected(), r.refreshStock(), true));
        out.append(row("*reference: stock, revoke off*", r.refreshReference()));
        out.append(ratioRow("*protected / reference*", r.refreshProtected(), r.refreshReference(), true)).append('\n');
        out.append("The reference realm is Keycloak as it comes (a used refresh token keeps working until it expires);"
                + " it is measured in the same rounds to show what detecting reuse costs at all, by either means.\n\n");
        out.append("Targets: p50 ≤ ").append(x(Results.TARGET_P50)).append(" stock (").append(met(r.p50Met()))
                .append("), p99 ≤ ").append(x(Results.TARGET_P99)).append(" (").append(met(r.p99Met()))
                .append("), throughput ≥ ").append(x(Results.TARGET_THROUGHPUT)).append(" (")
                .append(met(r.throughputMet())).append("). Median over the ").append(r.pairs().size())
                .append(" round pairs: p50 ").append(x(r.medianPairRatio(Results.RoundPair::p50Ratio)))
                .append(", throughput ").append(x(r.medianPairRatio(Results.RoundPair::throughputRatio)))
                .append(".\n\n");
        out.append("![latency and throughput](").append(Report.CHART).append(")\n\n");
        if (r.refreshCpu().measured()) {
            cpuPerRefresh(out, r.refreshCpu());
        }

        out.append("## Grace replay against a normal refresh\n\n");
        out.append("Protected realm, a client with `refresh.guard.grace.seconds=").append(s.graceSeconds())
                .append("`, one client, sequential: refresh with token T (normal), then T again (grace replay, must"
                        + " return the very same successor).\n\n");
        out.append("| request | requests | errors | p50 ms | p95 ms | p99 ms | mean ms |\n");
        out.append("|---|---:|---:|---:|---:|---:|---:|\n");
        out.append(sequentialRow("normal refresh", r.graceRefresh()));
        out.append(sequentialRow("grace replay", r.graceReplay()));
        out.append(ratioRow("**replay / normal**", r.graceReplay(), r.graceRefresh(), false)).append('\n');
        if (r.graceMismatches() > 0) {
            out.append("**").append(r.graceMismatches()).append(" grace replays did not return the same successor.**\n\n");
        }

        out.append("## Login (password grant)\n\n");
        out.append("One client, sequential, alternating realms; ").append(s.logins())
                .append(" logins per realm. A protected login also starts a family (one row written).\n\n");
        out.append("| realm | requests | errors | p50 ms | p95 ms | p99 ms | mean ms |\n");
        out.append("|---|---:|---:|---:|---:|---:|---:|\n");
        out.append(sequentialRow("protected", r.loginProtected()));
        out.append(sequentialRow("stock", r.loginStock()));
        out.append(ratioRow("**protected / stock**", r.loginProtected(), r.loginStock(), false)).append('\n');

        out.append("## Stored state of one family\n\n");
        out.append("One family of the protected realm rotated ").append(s.rotations())
                .append(" times by one sequential client; its row in `RG_FAMILY` (`pg_column_size` of the row).\n\n");
        out.append("| rotations | generation | rows | row bytes |\n|---:|---:|---:|---:|\n");
        for (FamilyRow.Size size : r.familyRow()) {
            out.append("| ").append(size.rotations()).append(" | ").append(size.generation()).append(" | ")
                    .append(size.rows()).append(" | ").append(size.bytes()).append(" |\n");
        }
        out.append("\nThe row ").append(r.familyRowGrew() ? "**grew**" : "did not grow").append(". The chain's"
                + " sequential refreshes: p50 ").append(ms(r.chainRefresh().p50())).append(" ms, p99 ")
                .append(ms(r.chainRefresh().p99())).append(" ms, ").append(r.chainRefresh().errors()).append(" errors.\n");
        if (!r.sql().isEmpty()) {
            out.append("\n## SQL statements per request\n\n");
            out.append("Counted on a second server of its own with `org.hibernate.SQL` at DEBUG, sequential requests,"
                    + " after Keycloak's caches are warm; the fewest of ").append(SqlCount.SAMPLES).append(" requests.\n\n");
            out.append("| realm | request | statements | which |\n|---|---|---:|---|\n");
            for (SqlCount.Profile p : r.sql()) {
                out.append("| ").append(p.realm()).append(" | ").append(p.request()).append(" | ").append(p.statements())
                        .append(" | ").append(summary(p.kinds())).append(" |\n");
            }
        }
        if (r.sweep() != null) {
            sweep(out, r.sweep(), s);
        }
        if (r.cpu() != null) {
            CpuProfile.Profile cpu = r.cpu();
            out.append("\n## Where the CPU goes (Java Flight Recorder)\n\n");
            out.append("A server of its own with `-XX:StartFlightRecording=settings=profile`, serving the same refresh"
                    + " rounds of the protected, the stock and the reference realm, one after the other. Of ").append(cpu.requestSamples())
                    .append(" execution samples of request threads, ").append(cpu.wrapped())
                    .append(" have a refresh-guard frame on the stack, mostly Keycloak's own work inside it (token"
                            + " signing under the response builder it wraps); ").append(cpu.own())
                    .append(String.format(Locale.ROOT, " (%.1f%%)", 100 * cpu.ownShare()))
                    .append(" are refresh-guard's own work.\n\n");
            out.append("| refresh-guard method at work | samples |\n|---|---:|\n");
            cpu.ownMethods().forEach((method, n) -> out.append("| `").append(method).append("` | ").append(n).append(" |\n"));
            out.append("\n| executing at the top of those stacks | samples |\n|---|---:|\n");
            cpu.ownLeaves().forEach((method, n) -> out.append("| `").append(method).append("` | ").append(n).append(" |\n"));
            gap(out, cpu.gap());
        }
        if (r.scale() != null) {
            scale(out, r.scale(), s);
        }
        if (r.errors() > 0) {
            out.append("\n**").append(r.errors()).append(" requests failed in this run; see the tables.**\n");
        }
        return out.toString();
    }

    private static void sweep(StringBuilder out, LatencySweep.Figures f, BenchSettings s) {
        out.append("\n## Latency sweep: the database farther away\n\n");
        out.append("A server of its own whose database connections pass a TCP proxy adding a delay to every message"
                + " Keycloak sends to the database (one per round trip). Per delay: ").append(s.sweepWarmup())
                .append(" warm-up and ").append(s.sweepRounds()).append(" measured rounds per realm of ").append(s.clients())
                .append(" clients × ").append(s.chain()).append(" refreshes, interleaved as above. Protected (P) and stock"
                        + " (S) as above; one-write reference (W): Keycloak's defaults plus one durable UPDATE of a"
                        + " family-sized row per refresh in the request's transaction (test-only listener `")
                .append(OneWriteListenerFactory.ID).append("`). Round trips: messages"
                        + " to the database per refresh, counted by the proxy (commit included).\n\n");
        out.append("| added ms | P p50 | S p50 | W p50 | **P/S p50** | P/S p99 | **P/W p50** | P/W p99 | P p99 | S p99 | W p99"
                + " | round trips P / S / W |\n");
        out.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (LatencySweep.Point p : f.points()) {
            out.append("| ").append(p.latencyMillis()).append(" | ").append(ms(p.protectedRealm().p50())).append(" | ")
                    .append(ms(p.stock().p50())).append(" | ").append(ms(p.oneWrite().p50())).append(" | **")
                    .append(x(p.p50ToStock())).append("** | ").append(x(p.p99ToStock())).append(" | **")
                    .append(x(p.p50ToOneWrite())).append("** | ").append(x(p.p99ToOneWrite())).append(" | ")
                    .append(ms(p.protectedRealm().p99())).append(" | ").append(ms(p.stock().p99())).append(" | ")
                    .append(ms(p.oneWrite().p99())).append(" | ")
                    .append(String.format(Locale.ROOT, "%.2f / %.2f / %.2f", p.protectedRoundTrips(), p.stockRoundTrips(),
                            p.oneWriteRoundTrips())).append(" |\n");
        }
        out.append("\nTargets at p50 (not asserted): protected ≤ ").append(x(Results.TARGET_SWEEP_TO_ONE_WRITE))
                .append(" one-write, ≤ ").append(x(Results.TARGET_P50)).append(" stock. The one-write realm"
                        + " served ").append(f.oneWriteRefreshes()).append(" refreshes and its table holds ")
                .append(f.oneWriteGenerations()).append(" writes. Failures: ").append(f.failures()).append(".\n");
    }

    private static void scale(StringBuilder out, Scale.Figures f, BenchSettings s) {
        out.append("\n## Scale: a big family table\n\n");
        out.append("A server of its own. `RG_FAMILY` seeded by SQL with ").append(String.format(Locale.ROOT, "%,d", f.seededRows()))
                .append(" rows (").append(f.seedSeconds()).append(" s): per 100, 20 live (attached to the benchmark users'"
                        + " sessions), 40 revoked and 25 ended within their retention over 20 realms and 100,000 users, 8 revoked"
                        + " and 7 ended past it; ages up to 30 days. ").append(f.users()).append(" concurrent clients, ")
                .append(s.rounds()).append(" rounds of ").append(s.chain()).append(" refreshes, ").append(s.logins())
                .append(" sequential logins per measurement.\n\n");
        out.append("| measurement | requests | errors | p50 ms | p95 ms | p99 ms | mean ms | throughput req/s |\n");
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        out.append(row("refresh, empty table", f.refreshEmpty()));
        out.append(row("refresh, big table", f.refreshBig()));
        out.append(ratioRow("**refresh big / empty**", f.refreshBig(), f.refreshEmpty(), true));
        out.append(row("login, empty table", f.loginEmpty()));
        out.append(row("login, big table", f.loginBig()));
        out.append(ratioRow("**login big / empty**", f.loginBig(), f.loginEmpty(), false));
        out.append(row("refresh, quiet (before the pass)", f.refreshQuiet()));
        out.append(row("refresh, during the purge pass", f.refreshDuringPurge()));
        out.append(ratioRow("**refresh during purge / quiet**", f.refreshDuringPurge(), f.refreshQuiet(), true));
        out.append(row("families page 1 (max=100) of a user with " + f.manyFamilies(), f.familiesFirstPage()));
        out.append(row("families last page", f.familiesLastPage()));
        out.append(row("families, state=REVOKED", f.familiesStateFilter()));
        out.append('\n');
        out.append("Purge pass: ").append(String.format(Locale.ROOT, "%,d", f.purgedRows())).append(" rows deleted (")
                .append(String.format(Locale.ROOT, "%,d", f.eligibleRows())).append(" eligible) in ").append(f.deleteMillis())
                .append(" ms, ").append(String.format(Locale.ROOT, "%,.0f", f.purgeRowsPerSecond()))
                .append(" rows/s; the whole pass (with the walk over the live families) took ").append(f.purgeMillis())
                .append(" ms. Targets: refresh big / empty ≤ ").append(x(Results.TARGET_BIG_TABLE)).append(" at p50 (")
                .append(met(Results.ratio(f.refreshBig().p50(), f.refreshEmpty().p50()) <= Results.TARGET_BIG_TABLE))
                .append("), p99 during purge / quiet ≤ ").append(x(Results.TARGET_DURING_PURGE)).append(" (")
                .append(met(Results.ratio(f.refreshDuringPurge().p99(), f.refreshQuiet().p99()) <= Results.TARGET_DURING_PURGE))
                .append(").\n\n");
        out.append("Sizes after the seed: table ").append(mib(f.tableBytes())).append(", indexes ").append(mib(f.indexBytes()))
                .append(" (");
        StringBuilder indexes = new StringBuilder();
        f.indexes().forEach((name, bytes) -> indexes.append(indexes.length() == 0 ? "" : ", ").append('`').append(name)
                .append("` ").append(mib(bytes)));
        out.append(indexes).append("), ").append(String.format(Locale.ROOT, "%.0f", f.seededRows() == 0 ? 0.0
                : (double) (f.tableBytes() + f.indexBytes()) / f.seededRows())).append(" bytes per family in all.\n");
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    /** "select CLIENT_SCOPE ×12, update RG_FAMILY": each kind once, in order of first appearance, with its count. */
    static String summary(List<String> kinds) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        kinds.forEach(k -> counts.merge(k, 1, Integer::sum));
        StringBuilder out = new StringBuilder();
        counts.forEach((kind, n) -> out.append(out.length() == 0 ? "" : ", ").append('`').append(kind).append('`')
                .append(n > 1 ? " ×" + n : ""));
        return out.length() == 0 ? "none" : out.toString();
    }

    /** A table row of the ratios {@code of / to}: p50, p95, p99, mean and, for loads, throughput. */
    private static String ratioRow(String label, Stats of, Stats to, boolean throughput) {
        StringBuilder row = new StringBuilder("| ").append(label).append(" | | | ");
        for (ToDoubleFunction<Stats> value : List.<ToDoubleFunction<Stats>>of(Stats::p50, Stats::p95, Stats::p99, Stats::mean)) {
            row.append(x(Results.ratio(value.applyAsDouble(of), value.applyAsDouble(to)))).append(" | ");
        }
        if (throughput) {
            row.append(x(Results.ratio(of.throughput(), to.throughput()))).append(" |");
        }
        return row.toString().stripTrailing() + "\n";
    }

    private static void gap(StringBuilder out, CpuProfile.Gap gap) {
        out.append("\n**Protected against reference, on the same recording.** Request-thread samples per 1,000 refreshes"
                + " (").append(gap.protectedRefreshes()).append(" protected and ").append(gap.referenceRefreshes())
                .append(" reference refreshes in rounds of their own), by the library of the first frame below the"
                        + " JDK's; and bytes allocated per refresh (all threads). JFR samples a few threads per interval, so"
                        + " differences of a few samples are noise: identical work (token signing) differs by that much;"
                        + " the CPU per process above is the sturdier measure.\n\n");
        out.append("| at work | protected | reference | difference |\n|---|---:|---:|---:|\n");
        double[] sum = new double[2];
        gap.samplesPerThousand().forEach((component, v) -> {
            sum[0] += v[0];
            sum[1] += v[1];
            out.append("| ").append(component).append(String.format(Locale.ROOT, " | %.1f | %.1f | %+.1f |\n", v[0], v[1], v[0] - v[1]));
        });
        out.append(String.format(Locale.ROOT, "| **all** | %.1f | %.1f | %+.1f |\n", sum[0], sum[1], sum[0] - sum[1]));
        out.append(String.format(Locale.ROOT, "| bytes allocated per refresh | %.0f | %.0f | %+.0f |\n\n", gap.protectedBytes(),
                gap.referenceBytes(), gap.protectedBytes() - gap.referenceBytes()));
        out.append("| method at work (first below the JDK's), largest excess first | protected | reference | difference |\n"
                + "|---|---:|---:|---:|\n");
        gap.methodsPerThousand().forEach((method, v) -> out.append("| `").append(method)
                .append(String.format(Locale.ROOT, "` | %.1f | %.1f | %+.1f |\n", v[0], v[1], v[0] - v[1])));
        out.append('\n');
    }

    /** Who spends the CPU of a refresh: on a shared machine latency is mostly waiting for a core. */
    private static void cpuPerRefresh(StringBuilder out, ProcessCpu.ByRealm cpu) {
        out.append("### CPU per refresh, by process\n\n");
        out.append("CPU time (user + system, from `/proc`) of each process during the measured rounds, divided by the"
                + " refreshes they served. PostgreSQL is all its processes; the load generator is the test JVM.\n\n");
        out.append("| realm | Keycloak µs | PostgreSQL µs | load generator µs | all µs |\n|---|---:|---:|---:|---:|\n");
        double[] protectedRealm = micros(cpu.protectedRealm(), cpu.protectedRequests());
        double[] reference = micros(cpu.reference(), cpu.referenceRequests());
        cpuRow(out, "protected", protectedRealm);
        cpuRow(out, "stock", micros(cpu.stock(), cpu.stockRequests()));
        cpuRow(out, "reference", reference);
        double[] gap = new double[protectedRealm.length];
        for (int i = 0; i < gap.length; i++) {
            gap[i] = protectedRealm[i] - reference[i];
        }
        cpuRow(out, "*protected − reference*", gap);
        out.append('\n');
    }

    /** Keycloak, PostgreSQL, load generator and all, in µs per request. */
    static double[] micros(ProcessCpu.Sample spent, long requests) {
        double n = Math.max(1, requests) * 1e3;
        return new double[] {spent.keycloak() / n, spent.database() / n, spent.client() / n, spent.total() / n};
    }

    private static void cpuRow(StringBuilder out, String label, double[] micros) {
        out.append("| ").append(label);
        for (double value : micros) {
            out.append(" | ").append(String.format(Locale.ROOT, "%.0f", value));
        }
        out.append(" |\n");
    }

    private static Map<String, Object> cpuJson(ProcessCpu.Sample spent, long requests) {
        double[] micros = micros(spent, requests);
        Map<String, Object> cpu = new LinkedHashMap<>();
        cpu.put("keycloak", round(micros[0]));
        cpu.put("postgresql", round(micros[1]));
        cpu.put("loadGenerator", round(micros[2]));
        cpu.put("all", round(micros[3]));
        return cpu;
    }

    private static String row(String label, Stats s) {
        return "| " + label + " | " + s.requests() + " | " + s.errors() + " | " + ms(s.p50()) + " | " + ms(s.p95()) + " | "
                + ms(s.p99()) + " | " + ms(s.mean()) + " | "
                // Sequential measurements (logins, pages) have no throughput of their own.
                + (s.throughput() > 0 ? String.format(Locale.ROOT, "%.1f", s.throughput()) : "–") + " |\n";
    }

    private static String sequentialRow(String label, Stats s) {
        return "| " + label + " | " + s.requests() + " | " + s.errors() + " | " + ms(s.p50()) + " | " + ms(s.p95()) + " | "
                + ms(s.p99()) + " | " + ms(s.mean()) + " |\n";
    }

    static String ms(double value) {
        return String.format(Locale.ROOT, "%.2f", value);
    }

    static String x(double ratio) {
        return String.format(Locale.ROOT, "%.3f×", ratio);
    }

    private static String met(boolean met) {
        return met ? "met" : "**missed**";
    }

    static String keycloakVersion() {
        return System.getProperty("keycloak.version", "26.7.3");
    }

    // ---- JSON ----

    static Map<String, Object> json(Results r) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("benchmark", "refresh-guard: the cost of protection");
        root.put("startedAt", r.startedAt());
        root.put("timedPhasesSeconds", r.timedSeconds());
        root.put("keycloak", keycloakVersion());
        root.put("refreshGuard", Jar.VERSION);
        BenchSettings s = r.settings();
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("mode", s.mode());
        settings.put("clients", s.clients());
        settings.put("roundsPerRealm", s.rounds());
        settings.put("refreshesPerClientPerRound", s.chain());
        settings.put("warmupRoundsPerRealm", s.warmup());
        settings.put("loginsPerRealm", s.logins());
        settings.put("gracePairs", s.grace());
        settings.put("graceSeconds", s.graceSeconds());
        settings.put("rotations", s.rotations());
        settings.put("sqlCount", s.sql());
        settings.put("jfr", s.jfr());
        settings.put("latencySweep", s.sweep() ? s.sweepLatencies() : List.of());
        root.put("settings", settings);
        Map<String, Object> machine = new LinkedHashMap<>();
        machine.put("cores", r.machine().cores());
        machine.put("cpuModel", r.machine().cpuModel());
        machine.put("memoryMiB", r.machine().memoryMiB());
        machine.put("jdk", r.machine().jdk());
        machine.put("os", r.machine().os());
        machine.put("loadBefore", r.loadBefore());
        machine.put("loadAfter", r.loadAfter());
        root.put("machine", machine);

        Map<String, Object> refresh = new LinkedHashMap<>();
        refresh.put("protected", stats(r.refreshProtected()));
        refresh.put("stock", stats(r.refreshStock()));
        refresh.put("referenceStockRevokeOff", stats(r.refreshReference()));
        if (r.refreshCpu().measured()) {
            Map<String, Object> cpu = new LinkedHashMap<>();
            cpu.put("protected", cpuJson(r.refreshCpu().protectedRealm(), r.refreshCpu().protectedRequests()));
            cpu.put("stock", cpuJson(r.refreshCpu().stock(), r.refreshCpu().stockRequests()));
            cpu.put("reference", cpuJson(r.refreshCpu().reference(), r.refreshCpu().referenceRequests()));
            refresh.put("cpuMicrosPerRefresh", cpu);
        }
        Map<String, Object> ratios = new LinkedHashMap<>();
        ratios.put("p50", round(r.ratio(Stats::p50)));
        ratios.put("p95", round(r.ratio(Stats::p95)));
        ratios.put("p99", round(r.ratio(Stats::p99)));
        ratios.put("mean", round(r.ratio(Stats::mean)));
        ratios.put("throughput", round(r.ratio(Stats::throughput)));
        ratios.put("medianPairP50", round(r.medianPairRatio(Results.RoundPair::p50Ratio)));
        ratios.put("medianPairThroughput", round(r.medianPairRatio(Results.RoundPair::throughputRatio)));
        refresh.put("ratiosProtectedToStock", ratios);
        Map<String, Object> targets = new LinkedHashMap<>();
        targets.put("p50AtMost", Results.TARGET_P50);
        targets.put("p50Met", r.p50Met());
        targets.put("p99AtMost", Results.TARGET_P99);
        targets.put("p99Met", r.p99Met());
        targets.put("throughputAtLeast", Results.TARGET_THROUGHPUT);
        targets.put("throughputMet", r.throughputMet());
        refresh.put("targets", targets);
        refresh.put("roundPairs", r.pairs().stream().map(p -> Map.of("protected", stats(p.protectedRound()),
                "stock", stats(p.stockRound()))).toList());
        root.put("refresh", refresh);

        Map<String, Object> grace = new LinkedHashMap<>();
        grace.put("normalRefresh", stats(r.graceRefresh()));
        grace.put("graceReplay", stats(r.graceReplay()));
        grace.put("replayToNormalP50", round(Results.ratio(r.graceReplay().p50(), r.graceRefresh().p50())));
        grace.put("mismatchedSuccessors", r.graceMismatches());
        root.put("grace", grace);

        Map<String, Object> login = new LinkedHashMap<>();
        login.put("protected", stats(r.loginProtected()));
        login.put("stock", stats(r.loginStock()));
        login.put("p50ProtectedToStock", round(r.loginRatio(Stats::p50)));
        login.put("p99ProtectedToStock", round(r.loginRatio(Stats::p99)));
        root.put("login", login);

        Map<String, Object> family = new LinkedHashMap<>();
        family.put("rows", r.familyRow().stream().map(size -> Map.of("rotations", size.rotations(),
                "generation", size.generation(), "rows", size.rows(), "rowBytes", size.bytes())).toList());
        family.put("grew", r.familyRowGrew());
        family.put("chainRefresh", stats(r.chainRefresh()));
        root.put("familyRow", family);
        if (r.sweep() != null) {
            Map<String, Object> sweep = new LinkedHashMap<>();
            sweep.put("rounds", s.sweepRounds());
            sweep.put("warmupRounds", s.sweepWarmup());
            sweep.put("points", r.sweep().points().stream().map(p -> {
                Map<String, Object> point = new LinkedHashMap<>();
                point.put("addedMillisPerRoundTrip", p.latencyMillis());
                point.put("protected", stats(p.protectedRealm()));
                point.put("stock", stats(p.stock()));
                point.put("oneWrite", stats(p.oneWrite()));
                point.put("p50ProtectedToStock", round(p.p50ToStock()));
                point.put("p99ProtectedToStock", round(p.p99ToStock()));
                point.put("p50ProtectedToOneWrite", round(p.p50ToOneWrite()));
                point.put("p99ProtectedToOneWrite", round(p.p99ToOneWrite()));
                point.put("roundTripsPerRefresh", Map.of("protected", round(p.protectedRoundTrips()),
                        "stock", round(p.stockRoundTrips()), "oneWrite", round(p.oneWriteRoundTrips())));
                return point;
            }).toList());
            sweep.put("failures", r.sweep().failures());
            sweep.put("oneWriteRefreshes", r.sweep().oneWriteRefreshes());
            sweep.put("oneWriteWrites", r.sweep().oneWriteGenerations());
            root.put("latencySweep", sweep);
        }
        root.put("sqlStatementsPerRequest", r.sql().stream().map(p -> Map.of("realm", p.realm(), "request", p.request(),
                "statements", p.statements(), "which", p.kinds())).toList());
        if (r.cpu() != null) {
            Map<String, Object> cpu = new LinkedHashMap<>();
            cpu.put("recording", r.cpu().recording().toString());
            cpu.put("requestThreadSamples", r.cpu().requestSamples());
            cpu.put("samplesWithRefreshGuardFrames", r.cpu().wrapped());
            cpu.put("refreshGuardOwnSamples", r.cpu().own());
            cpu.put("ownShare", round(r.cpu().ownShare()));
            cpu.put("refreshGuardMethods", r.cpu().ownMethods());
            cpu.put("leafFrames", r.cpu().ownLeaves());
            root.put("cpuProfile", cpu);
        }
        if (r.scale() != null) {
            Scale.Figures f = r.scale();
            Map<String, Object> scale = new LinkedHashMap<>();
            scale.put("seededRows", f.seededRows());
            scale.put("seedSeconds", f.seedSeconds());
            scale.put("refreshEmpty", stats(f.refreshEmpty()));
            scale.put("refreshBig", stats(f.refreshBig()));
            scale.put("refreshBigToEmptyP50", round(Results.ratio(f.refreshBig().p50(), f.refreshEmpty().p50())));
            scale.put("refreshBigToEmptyP99", round(Results.ratio(f.refreshBig().p99(), f.refreshEmpty().p99())));
            scale.put("refreshBigToEmptyThroughput", round(Results.ratio(f.refreshBig().throughput(), f.refreshEmpty().throughput())));
            scale.put("loginEmpty", stats(f.loginEmpty()));
            scale.put("loginBig", stats(f.loginBig()));
            scale.put("loginBigToEmptyP50", round(Results.ratio(f.loginBig().p50(), f.loginEmpty().p50())));
            scale.put("refreshQuiet", stats(f.refreshQuiet()));
            scale.put("refreshDuringPurge", stats(f.refreshDuringPurge()));
            scale.put("duringPurgeToQuietP99", round(Results.ratio(f.refreshDuringPurge().p99(), f.refreshQuiet().p99())));
            scale.put("purgeEligibleRows", f.eligibleRows());
            scale.put("purgedRows", f.purgedRows());
            scale.put("purgeDeleteMillis", f.deleteMillis());
            scale.put("purgePassMillis", f.purgeMillis());
            scale.put("purgeRowsPerSecond", round(f.purgeRowsPerSecond()));
            scale.put("manyFamilies", f.manyFamilies());
            scale.put("familiesFirstPage", stats(f.familiesFirstPage()));
            scale.put("familiesLastPage", stats(f.familiesLastPage()));
            scale.put("familiesStateFilter", stats(f.familiesStateFilter()));
            scale.put("tableBytes", f.tableBytes());
            scale.put("indexBytes", f.indexBytes());
            scale.put("indexes", f.indexes());
            root.put("scale", scale);
        }
        root.put("errors", r.errors());
        return root;
    }

    private static Map<String, Object> stats(Stats s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("requests", s.requests());
        m.put("errors", s.errors());
        m.put("p50Ms", round(s.p50()));
        m.put("p95Ms", round(s.p95()));
        m.put("p99Ms", round(s.p99()));
        m.put("meanMs", round(s.mean()));
        if (s.throughput() > 0) {
            m.put("throughputPerSecond", round(s.throughput()));
        }
        return m;
    }

    private static double round(double value) {
        return Math.round(value * 1000) / 1000.0;
    }
}
