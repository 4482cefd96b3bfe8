package dev.refreshguard.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.refreshguard.bench.Latencies.Stats;
import dev.refreshguard.harness.Database;
import dev.refreshguard.harness.DistributionServer;
import dev.refreshguard.harness.FaultProxy;

/**
 * A database farther away: a server of its own whose every database connection passes a {@link FaultProxy}
 * that adds a delay per round trip, and for each delay of the sweep the protected, the stock and the one-write
 * reference realm measured in the same interleaved rounds as the main refresh chains. The proxy also counts the
 * messages Keycloak sends to the database, so each realm's round trips per refresh are measured, not assumed.
 */
final class LatencySweep {

    /** One sweep point: the added delay, each realm's latencies, and its messages to the database per refresh. */
    record Point(int latencyMillis, Stats protectedRealm, Stats stock, Stats oneWrite,
                 double protectedRoundTrips, double stockRoundTrips, double oneWriteRoundTrips) {

        double p50ToStock() {
            return Results.ratio(protectedRealm.p50(), stock.p50());
        }

        double p99ToStock() {
            return Results.ratio(protectedRealm.p99(), stock.p99());
        }

        double p50ToOneWrite() {
            return Results.ratio(protectedRealm.p50(), oneWrite.p50());
        }

        double p99ToOneWrite() {
            return Results.ratio(protectedRealm.p99(), oneWrite.p99());
        }
    }

    /**
     * @param failures what must be zero: failed refreshes per realm, and the reference realm's refreshes whose
     *                 write is missing from its table (refreshes served minus the generations written)
     */
    record Figures(List<Point> points, Map<String, Integer> failures, long oneWriteRefreshes, long oneWriteGenerations) {
    }

    private LatencySweep() {
    }

    static Figures measure(BenchSettings settings) {
        String database = "rg_bench_sweep_" + System.currentTimeMillis();
        Path jar = OneWriteJar.build(Path.of(System.getProperty("it.work.dir", "target/it")).resolve("bench-providers"));
        try (FaultProxy proxy = FaultProxy.to(Database.selected().address())) {
            DistributionServer server = DistributionServer.startFromCopy("bench-sweep", database,
                    List.of("--db-url=" + Database.selected().keycloakUrlThrough(database, proxy.address())), Map.of(),
                    List.of(jar));
            try {
                OneWriteJar.createTable(server.jdbcUrl());
                BenchRealms realms = BenchRealms.create(server, settings.clients(), settings.graceSeconds(), true);
                return sweep(settings, server, proxy, realms);
            } finally {
                proxy.latency(Duration.ZERO); // the server's shutdown should not wait on the wire
                server.close();
            }
        }
    }

    private static Figures sweep(BenchSettings settings, DistributionServer server, FaultProxy proxy, BenchRealms realms) {
        List<Point> points = new ArrayList<>();
        Map<String, Integer> failures = new LinkedHashMap<>();
        try (RefreshRounds p = new RefreshRounds(server, "protected", realms.guarded().name, BenchRealms.CLIENT, realms.users());
             RefreshRounds s = new RefreshRounds(server, "stock", realms.stock().name, BenchRealms.CLIENT, realms.users());
             RefreshRounds w = new RefreshRounds(server, "one-write", realms.oneWrite().name, BenchRealms.CLIENT, realms.users())) {
            List<RefreshRounds> all = List.of(p, s, w);
            all.forEach(RefreshRounds::loginAll);
            for (int latency : settings.sweepLatencies()) {
                proxy.latency(Duration.ofMillis(latency));
                for (int i = 0; i < settings.sweepWarmup(); i++) {
                    all.forEach(r -> r.round(settings.chain()));
                }
                Map<RefreshRounds, Latencies> measured = new HashMap<>();
                Map<RefreshRounds, long[]> messages = new HashMap<>();
                for (int i = 0; i < settings.sweepRounds(); i++) {
                    for (int k = 0; k < all.size(); k++) {
                        RefreshRounds realm = all.get((i + k) % all.size());
                        long before = proxy.messagesToDatabase();
                        Latencies round = realm.round(settings.chain());
                        long sent = proxy.messagesToDatabase() - before;
                        measured.computeIfAbsent(realm, r -> new Latencies()).addAll(round);
                        messages.merge(realm, new long[] {sent, round.stats().requests()},
                                (a, b) -> new long[] {a[0] + b[0], a[1] + b[1]});
                    }
                }
                points.add(new Point(latency, measured.get(p).stats(), measured.get(s).stats(), measured.get(w).stats(),
                        perRefresh(messages.get(p)), perRefresh(messages.get(s)), perRefresh(messages.get(w))));
            }
            for (RefreshRounds r : all) {
                failures.put("latency sweep, " + r.label + " realm: failed refreshes (warm-up included)", r.errors());
            }
            long[] writes = OneWriteJar.writes(server.jdbcUrl());
            failures.put("latency sweep, one-write realm: refreshes whose write is missing",
                    (int) Math.abs(w.served() - writes[0]));
            return new Figures(points, failures, w.served(), writes[0]);
        }
    }

    private static double perRefresh(long[] sentAndRequests) {
        return sentAndRequests == null || sentAndRequests[1] == 0 ? 0 : (double) sentAndRequests[0] / sentAndRequests[1];
    }
}
