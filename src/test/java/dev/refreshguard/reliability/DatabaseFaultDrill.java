package dev.refreshguard.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;

import dev.refreshguard.harness.Admin;
import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.DistributionServer;
import dev.refreshguard.harness.Figures;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.Ledger;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.ServerLog;
import dev.refreshguard.harness.TestRealm;
import dev.refreshguard.reliability.Storm.Answer;

/**
 * The database fault drill that {@link DatabaseOutageIT} (connections cut and refused at a proxy) and
 * {@link DatabaseRestartIT} (the database server process stopped at once and started again) run with their own
 * fault. Clients refresh in a loop ({@link Storm}), the fault begins, a token exchange and an admin revocation are
 * tried while it lasts, and it ends. Proven: no refresh, exchange or admin revocation is answered 2xx while the ledger
 * cannot be written (each answer is Keycloak's 500 or our 503 {@code temporarily_unavailable}, the revocation is done
 * by the retry after), every answer comes within {@link #ANSWER_BOUND}, every client is served again within
 * {@link #RECOVERY_BOUND} of the database's return and then only 200s follow, with grace at least the outage no honest
 * client loses its family, a token rotated away before the fault is still reuse after it, and refresh-guard's log has
 * a WARN line per 503 and no stack trace ({@link ServerLog#stackTracesOfOurs}).
 */
final class DatabaseFaultDrill {

    /** The fault: {@link #begin} takes the database away; {@link #end} brings it back, returning once it serves. */
    interface Fault {
        void begin();

        void end();
    }

    static final int CLIENTS = 6;
    /** At least the outage: a refresh whose commit reached the database but whose answer was lost can be retried. */
    static final int GRACE_SECONDS = 30;
    static final int LOCK_TIMEOUT = 3;
    /** The server option a drill's server runs with. */
    static final String LOCK_TIMEOUT_OPTION = "--spi-refresh-guard--refresh-guard--lock-timeout=" + LOCK_TIMEOUT;

    private static final Duration PACE = Duration.ofMillis(100);
    private static final Duration WARM = Duration.ofSeconds(3);
    /** The bound on any answer while the database is away. */
    private static final Duration ANSWER_BOUND = Duration.ofSeconds(10);
    /** Generous on a shared 2-core machine; the measured figure is what the docs report. */
    private static final Duration RECOVERY_BOUND = Duration.ofSeconds(30);
    private static final String BACKEND_SECRET = "backend-secret-0123456789";
    private static final String REFRESH_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:refresh_token";

    private final DistributionServer server;
    private final TestRealm realm;

    /** A protected realm on {@code server} with grace {@link #GRACE_SECONDS}, a backend that exchanges, the storm's users. */
    DatabaseFaultDrill(DistributionServer server, String realmName) {
        this.server = server;
        realm = TestRealm.guarded(server, realmName, Map.of("refresh.guard.grace.seconds", String.valueOf(GRACE_SECONDS)));
        realm.addConfidentialClient("backend", BACKEND_SECRET, Map.of("attributes", Map.of(
                "standard.token.exchange.enabled", "true",
                "standard.token.exchange.enableRefreshRequestedTokenType", "SAME_SESSION")));
        realm.addAudience("spa", "backend");
        for (int i = 0; i < CLIENTS; i++) {
            realm.addUser("storm" + i);
        }
    }

    /**
     * Runs the drill with a fault of at least {@code outage} and records its figures as {@code name}.
     *
     * @param fault    what takes the database away and brings it back
     * @param kind     the database's kind, for the figures
     * @param describe the figures' description, given the measured outage in milliseconds
     */
    void run(String name, String kind, Duration outage, Fault fault, LongFunction<String> describe) {
        Oidc spa = realm.spa();
        // A token rotated away before the fault (and its successor used too, so grace does not apply): reuse after it.
        String spent = spa.password("alice", "alice").text("refresh_token");
        Reply second = spa.refresh(spent);
        assertThat(second.status()).isEqualTo(200);
        assertThat(spa.refresh(second.text("refresh_token")).status()).isEqualTo(200);

        List<String> first = new ArrayList<>();
        List<String> families = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            Reply login = spa.password("storm" + i, "storm" + i);
            assertThat(login.status()).as("login: %s", login).isEqualTo(200);
            first.add(login.text("refresh_token"));
            families.add(Oidc.claims(login.text("refresh_token")).get("rg_fid").asText());
        }
        // A family an incident responder revokes and one a backend exchanges from, while the database is away.
        Reply responderCase = spa.password("bob", "bob");
        String responderFamily = Oidc.claims(responderCase.text("refresh_token")).get("rg_fid").asText();
        Oidc backend = realm.confidential("backend", BACKEND_SECRET);
        Admin admin = new Admin(server);
        admin.token(); // signed in before the fault: the admin's own login needs the database
        ServerLog log = new ServerLog(server);
        int logFrom = log.lines().size();

        Storm storm = Storm.start(first, List.of(spa), PACE);
        Timed exchangeWhileDown;
        Timed revokeWhileDown;
        long downAt;
        long endingAt;
        long backAt;
        try {
            Await.until(WARM.plusSeconds(60), "every client refreshed once before the fault", () -> storm.everyClientServedSince(0));
            long warmFrom = System.nanoTime();
            Await.until(WARM.plusSeconds(60), "the storm to warm up", () -> System.nanoTime() - warmFrom >= WARM.toNanos());

            downAt = System.nanoTime();
            fault.begin();
            exchangeWhileDown = Timed.timed(() -> backend.exchange(responderCase.text("access_token"), "requested_token_type",
                    REFRESH_TOKEN_TYPE));
            revokeWhileDown = Timed.timed(() -> admin.call("POST", "/" + realm.name + "/refresh-guard/families/" + responderFamily
                    + "/revoke", null));
            Await.until(outage.plusSeconds(30), "the outage to last " + outage, () -> System.nanoTime() - downAt >= outage.toNanos());
            // The database may serve again before end() has noticed: "while down" ends where the end begins.
            endingAt = System.nanoTime();
            fault.end();
            backAt = System.nanoTime();
            try {
                Await.until(RECOVERY_BOUND, "every client to be served again after the database came back",
                        () -> storm.everyClientServedSince(backAt));
            } catch (AssertionError e) {
                printAround(storm, families, downAt, backAt);
                throw e;
            }
        } finally {
            storm.stop();
        }
        List<Answer> answers = storm.answers();
        long firstServedAt = storm.firstServed(backAt);
        long allServedAt = storm.lastFirstServed(backAt);

        // While the database was away: nothing served, each answer a clear error within the bound.
        List<Answer> whileDown = answers.stream().filter(a -> a.startedIn(downAt, endingAt)).toList();
        assertThat(whileDown).as("requests answered while the database was away").isNotEmpty();
        assertThat(whileDown).as("answers while down: Keycloak's 500 or our 503").allMatch(a -> a.status() == 500
                || a.status() == 503 && "temporarily_unavailable".equals(a.error()));
        Duration longest = answers.stream().map(Answer::elapsed).max(Duration::compareTo).orElseThrow();
        assertThat(answers).as("answers slower than " + ANSWER_BOUND).noneMatch(a -> a.elapsed().compareTo(ANSWER_BOUND) > 0);
        // After every client was served again: nothing but 200s (no 5xx after recovery).
        assertThat(answers.stream().filter(a -> a.start() >= allServedAt)).as("answers after recovery").allMatch(a -> a.status() == 200);

        // refresh-guard's own lines: a WARN per 503, no stack trace, no uncaught error through the store.
        assertThat(log.stackTracesOfOurs(logFrom)).as("refresh-guard's stack traces on an expected fault").isEmpty();
        long served503 = whileDown.stream().filter(a -> a.status() == 503).count();
        List<String> lines = log.lines();
        long warned = lines.subList(logFrom, lines.size()).stream()
                .filter(l -> l.contains(" WARN ") && l.contains("the database could not be reached")).count();
        assertThat(warned).as("WARN lines for the 503s").isGreaterThanOrEqualTo(served503);

        // A token exchange and an admin revocation while the database was away: not served, answered within the bound.
        assertThat(exchangeWhileDown.reply().status()).as("exchange while down: %s", exchangeWhileDown.reply()).isIn(500, 503);
        assertThat(exchangeWhileDown.elapsed()).isLessThanOrEqualTo(ANSWER_BOUND);
        assertThat(revokeWhileDown.reply().status()).as("admin revoke while down: %s", revokeWhileDown.reply()).isIn(500, 503);
        assertThat(revokeWhileDown.elapsed()).isLessThanOrEqualTo(ANSWER_BOUND);
        // Nothing was revoked; the responder's retry after recovery does it.
        assertThat(Ledger.of(server).family(responderFamily).get("state")).isEqualTo("ACTIVE");
        Reply revokedAfter = admin.call("POST", "/" + realm.name + "/refresh-guard/families/" + responderFamily + "/revoke", null);
        assertThat(revokedAfter.status()).as("admin revoke after recovery: %s", revokedAfter).isEqualTo(200);
        assertThat(Ledger.of(server).family(responderFamily).get("state")).isEqualTo("REVOKED");

        // Every honest client kept its family, and it keeps working; a token rotated away before the fault is reuse.
        Ledger ledger = Ledger.of(server);
        for (int i = 0; i < CLIENTS; i++) {
            assertThat(ledger.family(families.get(i)).get("state")).as("family of client %s", i).isEqualTo("ACTIVE");
            Reply next = spa.refresh(storm.token(i));
            assertThat(next.status()).as("client %s after recovery: %s", i, next).isEqualTo(200);
        }
        Oidc.expectReuseDetected(spa.refresh(spent));

        Map<Integer, Long> byStatus = new LinkedHashMap<>();
        whileDown.forEach(a -> byStatus.merge(a.status(), 1L, Long::sum));
        long outageMillis = (backAt - downAt) / 1_000_000;
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("database", kind);
        details.put("outageMillis", outageMillis);
        details.put("answersWhileDown", byStatus.toString());
        details.put("firstServedAfterMillis", (firstServedAt - backAt) / 1_000_000);
        details.put("allServedAfterMillis", (allServedAt - backAt) / 1_000_000);
        details.put("longestAnswerMillis", longest.toMillis());
        details.put("requests", answers.size());
        details.put("exchangeWhileDown", exchangeWhileDown.reply().status() + " in " + exchangeWhileDown.elapsed().toMillis() + " ms");
        details.put("adminRevokeWhileDown", revokeWhileDown.reply().status() + " in " + revokeWhileDown.elapsed().toMillis() + " ms");
        System.out.println("[refresh-guard] " + name + " " + details);
        Figures.record(name + "-" + kind, new Figures.Row(describe.apply(outageMillis) + ", " + CLIENTS + " clients, grace "
                + GRACE_SECONDS + " s (" + name + ", " + kind + ")",
                answers.size(), CLIENTS, 1, 0, (int) whileDown.stream().filter(a -> a.status() >= 500).count(),
                "no: 0 served while down (" + byStatus + "), longest answer " + longest.toMillis() + " ms, every client served again "
                        + (allServedAt - backAt) / 1_000_000 + " ms after, " + CLIENTS + "/" + CLIENTS
                        + " families kept, pre-fault token still reuse", details));
    }

    /** Each request around the fault and the ledger afterwards: what a failed recovery needs to be understood. */
    private void printAround(Storm storm, List<String> families, long downAt, long backAt) {
        for (Answer a : storm.answers()) {
            if (a.end() >= downAt - 2_000_000_000L && a.start() <= backAt + 3_000_000_000L) {
                System.out.printf("DIAG client %d start %+d ms end %+d ms status %d %s gen %d%n", a.client(),
                        (a.start() - downAt) / 1_000_000, (a.end() - downAt) / 1_000_000, a.status(), a.error(), a.generation());
            }
        }
        for (int i = 0; i < CLIENTS; i++) {
            System.out.println("DIAG ledger " + i + " " + Ledger.of(server).family(families.get(i)) + " token gen "
                    + Oidc.claims(storm.token(i)).path("rg_gen").asInt());
        }
        System.out.println("DIAG back at " + (backAt - downAt) / 1_000_000);
    }
}
