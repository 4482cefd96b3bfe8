package dev.refreshguard.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.TestRealm;

/**
 * The benchmark command: what protection costs per refresh and per login, against stock Keycloak on the same
 * server in the same run. {@code mvn -Pbench verify} runs the full measurement; every build runs the short mode
 * to keep it working. It asserts that the reports are written, that no refresh failed and every grace replay
 * returned the very successor it replays (in either mode, warm-up requests included), that a family's stored row
 * does not grow with rotations, and that the latency sweep's one-write reference realm wrote once per refresh —
 * never a timing or a ratio, which depend on the machine.
 */
@ExtendWith(RealServer.class)
class BenchmarkIT {

    private static final String CLIENT = BenchRealms.CLIENT;

    @Test
    void measuresTheCostOfProtectionAgainstStockKeycloak(KeycloakServer server) throws Exception {
        BenchSettings settings = BenchSettings.fromSystemProperties();
        String startedAt = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        String loadBefore = Machine.load();
        long start = System.nanoTime();

        BenchRealms realms = BenchRealms.create(server, settings.clients(), settings.graceSeconds());
        TestRealm guarded = realms.guarded();
        TestRealm stock = realms.stock();
        List<String> users = realms.users();

        Latencies refreshProtected = new Latencies();
        Latencies refreshStock = new Latencies();
        Latencies refreshReference = new Latencies();
        List<Results.RoundPair> pairs = new ArrayList<>();
        // What must be zero, by measurement: failed refreshes and grace replays that got another successor.
        Map<String, Integer> failures = new LinkedHashMap<>();
        ProcessCpu.ByRealm refreshCpu = refreshRounds(server, settings, realms, refreshProtected, refreshStock, refreshReference,
                pairs, failures);

        Latencies graceRefresh = new Latencies();
        Latencies graceReplay = new Latencies();
        TokenClient graceClient = new TokenClient(server, guarded.name, BenchRealms.GRACE_CLIENT);
        Latencies warmupRefresh = new Latencies();
        Latencies warmupReplay = new Latencies();
        int warmupMismatches = gracePairs(graceClient, users.get(0), settings.grace() / 10 + 5, warmupRefresh, warmupReplay);
        int mismatches = gracePairs(graceClient, users.get(0), settings.grace(), graceRefresh, graceReplay);
        failures.put("grace client: failed refreshes (warm-up included)", graceRefresh.stats().errors() + warmupRefresh.stats().errors());
        failures.put("grace client: failed grace replays (warm-up included)", graceReplay.stats().errors() + warmupReplay.stats().errors());
        failures.put("grace client: replays answered with another successor (warm-up included)", mismatches + warmupMismatches);

        Latencies loginProtected = new Latencies();
        Latencies loginStock = new Latencies();
        logins(server, settings, guarded, stock, users, loginProtected, loginStock);

        Latencies chainRefresh = new Latencies();
        List<FamilyRow.Size> familyRow = rotateOneFamily(server, settings, guarded, users.get(0), chainRefresh);

        String loadAfter = Machine.load();
        long timedSeconds = (System.nanoTime() - start) / 1_000_000_000L;

        // Last, so that its server does not share the machine with the timed phases.
        List<SqlCount.Profile> sql = settings.sql() ? SqlCount.measure(settings.graceSeconds()) : List.of();
        LatencySweep.Figures sweep = settings.sweep() && server.jdbcUrl() != null ? LatencySweep.measure(settings) : null;
        CpuProfile.Profile cpu = settings.jfr() ? CpuProfile.measure(settings) : null;
        Scale.Figures scale = settings.scale() && server.jdbcUrl() != null ? Scale.measure(settings) : null;

        Results results = new Results(settings, Machine.here(), startedAt, timedSeconds, loadBefore, loadAfter,
                refreshProtected.stats(), refreshStock.stats(), refreshReference.stats(), pairs, refreshCpu, graceRefresh.stats(), graceReplay.stats(),
                mismatches, loginProtected.stats(), loginStock.stats(), familyRow, chainRefresh.stats(), sql, sweep, cpu, scale);
        List<Path> written = Report.write(results, settings.outDir());
        System.out.println(Report.markdown(results));
        System.out.println("benchmark reports: " + written);

        if (scale != null) {
            failures.put("scale phase: failed refreshes (warm-up included)", scale.roundErrors());
        }
        if (sweep != null) {
            failures.putAll(sweep.failures());
        }
        if (cpu != null) {
            failures.put("CPU profile: failed refreshes (warm-up included)", cpu.refreshErrors());
        }
        assertThat(failures.values().stream().mapToInt(Integer::intValue).sum())
                .as("failed refreshes and mismatched grace replays, in %s mode: %s", settings.mode(), failures).isZero();

        for (Path file : written) {
            assertThat(file).exists();
            assertThat(Files.size(file)).as("size of %s", file).isPositive();
        }
        if (server.jdbcUrl() != null) {
            FamilyRow.Size first = familyRow.get(0);
            FamilyRow.Size last = familyRow.get(familyRow.size() - 1);
            assertThat(last.generation()).as("the measured family rotated every time").isEqualTo(settings.rotations());
            assertThat(last.rows()).as("rows of the family").isEqualTo(1);
            assertThat(last.bytes()).as("bytes of the family's row after %d rotations vs after 1", settings.rotations())
                    .isLessThanOrEqualTo(first.bytes());
        }
        if (scale != null) {
            // What the scale phase must have done, never how fast: the seed is there and the measured pass deleted it.
            assertThat(scale.seededRows()).isGreaterThanOrEqualTo(settings.scaleRows());
            assertThat(scale.purgedRows()).as("rows the measured purge pass deleted").isGreaterThanOrEqualTo(scale.eligibleRows());
            assertThat(Files.readString(written.get(0))).contains("## Scale: a big family table");
        }
        if (sweep != null) {
            // Every sweep point measured every realm; the one-write realm wrote once per refresh (checked in failures).
            assertThat(sweep.points()).extracting(LatencySweep.Point::latencyMillis).containsExactlyElementsOf(settings.sweepLatencies());
            assertThat(sweep.oneWriteGenerations()).as("writes of the one-write realm").isPositive();
            assertThat(Files.readString(written.get(0))).contains("## Latency sweep");
        }
    }

    private static ProcessCpu.ByRealm refreshRounds(KeycloakServer server, BenchSettings settings, BenchRealms realms,
                                      Latencies allProtected, Latencies allStock, Latencies allReference,
                                      List<Results.RoundPair> pairs, Map<String, Integer> failures) {
        try (RefreshRounds p = new RefreshRounds(server, "protected", realms.guarded().name, CLIENT, realms.users());
             RefreshRounds s = new RefreshRounds(server, "stock", realms.stock().name, CLIENT, realms.users());
             RefreshRounds d = new RefreshRounds(server, "default", realms.reference().name, CLIENT, realms.users())) {
            List<RefreshRounds> all = List.of(p, s, d);
            ProcessCpu cpu = ProcessCpu.of(server.baseUrl());
            Map<RefreshRounds, ProcessCpu.Sample> spent = new HashMap<>();
            all.forEach(RefreshRounds::loginAll);
            for (int i = 0; i < settings.warmup(); i++) {
                all.forEach(r -> r.round(settings.chain()));
            }
            for (int i = 0; i < settings.rounds(); i++) {
                // The order rotates (P S D, S D P, D P S, ...): a drift of the machine's load weighs on every realm alike.
                Map<RefreshRounds, Latencies> round = new HashMap<>();
                for (int k = 0; k < all.size(); k++) {
                    RefreshRounds realm = all.get((i + k) % all.size());
                    ProcessCpu.Sample before = cpu.now();
                    round.put(realm, realm.round(settings.chain()));
                    spent.merge(realm, cpu.now().minus(before), ProcessCpu.Sample::plus);
                }
                allProtected.addAll(round.get(p));
                allStock.addAll(round.get(s));
                allReference.addAll(round.get(d));
                pairs.add(new Results.RoundPair(round.get(p).stats(), round.get(s).stats()));
            }
            for (RefreshRounds r : all) {
                failures.put("refresh rounds, " + r.label + " realm: failed refreshes (warm-up included)", r.errors());
            }
            return new ProcessCpu.ByRealm(spent.getOrDefault(p, ProcessCpu.NONE), spent.getOrDefault(s, ProcessCpu.NONE),
                    spent.getOrDefault(d, ProcessCpu.NONE), allProtected.stats().requests(), allStock.stats().requests(),
                    allReference.stats().requests());
        }
    }

    /** Pairs of (refresh with T, replay of T within grace); returns how many replays got another successor. */
    private static int gracePairs(TokenClient client, String user, int count, Latencies normal, Latencies replay) {
        String token = login(client, user);
        int mismatches = 0;
        for (int i = 0; i < count; i++) {
            TokenClient.Answer first = client.refresh(token);
            String successor = first.refreshToken();
            if (successor == null) {
                normal.error();
                token = login(client, user);
                continue;
            }
            normal.add(first.nanos());
            TokenClient.Answer again = client.refresh(token);
            if (again.status() != 200) {
                replay.error();
            } else {
                replay.add(again.nanos());
                if (!successor.equals(again.refreshToken())) {
                    mismatches++;
                }
            }
            token = successor;
        }
        return mismatches;
    }

    private static void logins(KeycloakServer server, BenchSettings settings, TestRealm guarded, TestRealm stock,
                               List<String> users, Latencies intoProtected, Latencies intoStock) {
        TokenClient p = new TokenClient(server, guarded.name, CLIENT);
        TokenClient s = new TokenClient(server, stock.name, CLIENT);
        int warmup = settings.logins() / 10 + 2;
        for (int i = -warmup; i < settings.logins(); i++) {
            String user = users.get(Math.floorMod(i, users.size()));
            boolean measured = i >= 0;
            if (Math.floorMod(i, 2) == 0) {
                timedLogin(p, user, measured ? intoProtected : null);
                timedLogin(s, user, measured ? intoStock : null);
            } else {
                timedLogin(s, user, measured ? intoStock : null);
                timedLogin(p, user, measured ? intoProtected : null);
            }
        }
    }

    private static void timedLogin(TokenClient client, String user, Latencies into) {
        TokenClient.Answer answer = client.password(user, user);
        if (into == null) {
            return;
        }
        if (answer.status() == 200) {
            into.add(answer.nanos());
        } else {
            into.error();
        }
    }

    /** Rotates one family many times, reading its stored row after 1, 10, 100, ... rotations and after the last. */
    private static List<FamilyRow.Size> rotateOneFamily(KeycloakServer server, BenchSettings settings, TestRealm guarded,
                                                        String user, Latencies chain) {
        TokenClient client = new TokenClient(server, guarded.name, CLIENT);
        String token = login(client, user);
        String familyId = Oidc.claims(token).get("rg_fid").asText();
        FamilyRow probe = server.jdbcUrl() == null ? null : new FamilyRow(server.jdbcUrl());
        List<FamilyRow.Size> sizes = new ArrayList<>();
        for (int rotation = 1; rotation <= settings.rotations(); rotation++) {
            TokenClient.Answer answer = client.refresh(token);
            token = answer.refreshToken();
            if (token == null) {
                throw new IllegalStateException("rotation " + rotation + " of family " + familyId + " failed: "
                        + answer.status() + " " + answer.body());
            }
            chain.add(answer.nanos());
            if (probe != null && (isPowerOfTen(rotation) || rotation == settings.rotations())) {
                sizes.add(probe.measure(familyId, rotation));
            }
        }
        return sizes;
    }

    private static boolean isPowerOfTen(int n) {
        while (n >= 10 && n % 10 == 0) {
            n /= 10;
        }
        return n == 1;
    }

    private static String login(TokenClient client, String user) {
        TokenClient.Answer answer = client.password(user, user);
        String token = answer.refreshToken();
        if (token == null) {
            throw new IllegalStateException("login of " + user + " failed: " + answer.status() + " " + answer.body());
        }
        return token;
    }
}
