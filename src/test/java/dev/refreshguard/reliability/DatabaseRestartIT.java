package dev.refreshguard.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.Admin;
import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.DistributionServer;
import dev.refreshguard.harness.Figures;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.Ledger;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.PrivateDatabase;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.ServerLog;
import dev.refreshguard.harness.TestRealm;
import dev.refreshguard.reliability.Storm.Answer;

/**
 * The database server restarts in the middle of a refresh storm: a Keycloak of its own runs on a database server
 * process of the test's own ({@link PrivateDatabase}, the run's kind; the machine's database serves everyone and is
 * never restarted), clients refresh in a loop, and the database server is stopped at once (PostgreSQL
 * {@code pg_ctl -m immediate}, MariaDB SIGKILL: every connection drops, as in a crash or fail-over) and started
 * again after at least {@link #OUTAGE}. Proven, as for {@link DatabaseOutageIT}'s cut: no refresh, token exchange or
 * admin revocation is answered 2xx while the ledger cannot be written, every answer comes within
 * {@link #ANSWER_BOUND}, refreshes are served again within seconds once the database is back (Keycloak's pool
 * reconnects by itself), with grace at least the outage no honest client loses its family, and a token rotated away
 * before the fault is still reuse after it. On PostgreSQL this also proves that a rotation answered 200 survives the
 * crash: Keycloak commits a transaction whose only entity writes are sessions and events with
 * {@code synchronous_commit} off, which lost acknowledged rotations until the store required a synchronous commit
 * (docs/reliability.md, "The database server restarts"). {@code -Dit.private-db.log-statements=true} logs every
 * statement the database received. The {@code DIAG} lines it prints when clients are not served again show each
 * request around the fault and the ledger afterwards.
 */
@ExtendWith(RealServer.class) // for its skip when the run's database is absent; this class starts its own server
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DatabaseRestartIT {

    private static final int CLIENTS = 6;
    private static final Duration PACE = Duration.ofMillis(100);
    private static final Duration WARM = Duration.ofSeconds(3);
    /** From the stop to the start again; the start's own crash recovery comes on top. */
    private static final Duration OUTAGE = Duration.ofSeconds(6);
    /** The bound on any answer while the database is away. */
    private static final Duration ANSWER_BOUND = Duration.ofSeconds(10);
    /** Generous on a shared 2-core machine; the measured figure is what the docs report. */
    private static final Duration RECOVERY_BOUND = Duration.ofSeconds(30);
    private static final int GRACE_SECONDS = 30;
    private static final int LOCK_TIMEOUT = 3;
    private static final Pattern ENTRY_START = Pattern.compile("\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2},\\d{3} ");
    private static final String BACKEND_SECRET = "backend-secret-0123456789";
    private static final String REFRESH_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:refresh_token";

    private PrivateDatabase database;
    private DistributionServer server;
    private TestRealm realm;

    @BeforeAll
    void serverOnItsOwnDatabaseServer() {
        database = PrivateDatabase.start();
        server = DistributionServer.startFromCopy("restart", database.database(), "rg_restart_" + System.currentTimeMillis(),
                List.of("--spi-refresh-guard--refresh-guard--lock-timeout=" + LOCK_TIMEOUT), Map.of());
        // Grace at least the outage: a refresh whose commit reached the database but whose answer was lost can be retried.
        realm = TestRealm.guarded(server, "restart", Map.of("refresh.guard.grace.seconds", String.valueOf(GRACE_SECONDS)));
        realm.addConfidentialClient("backend", BACKEND_SECRET, Map.of("attributes", Map.of(
                "standard.token.exchange.enabled", "true",
                "standard.token.exchange.enableRefreshRequestedTokenType", "SAME_SESSION")));
        realm.addAudience("spa", "backend");
        for (int i = 0; i < CLIENTS; i++) {
            realm.addUser("storm" + i);
        }
    }

    @AfterAll
    void stop() {
        try {
            if (server != null) {
                server.close();
            }
        } finally {
            if (database != null) {
                database.close();
            }
        }
    }

    @Test
    void databaseRestartMidStormFailsClosedAndRecovers() {
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
        Reply responderCase = spa.password("bob", "bob");
        String responderFamily = Oidc.claims(responderCase.text("refresh_token")).get("rg_fid").asText();
        Oidc backend = realm.confidential("backend", BACKEND_SECRET);
        Admin admin = new Admin(server);
        admin.token(); // signed in before the fault: the admin's own login needs the database
        int logFrom = new ServerLog(server).lines().size();

        Storm storm = Storm.start(first, List.of(spa), PACE);
        Reply exchangeWhileDown;
        Reply revokeWhileDown;
        Duration exchangeTook;
        Duration revokeTook;
        long stoppedAt;
        long restartingAt;
        long backAt;
        try {
            Await.until(WARM.plusSeconds(60), "every client refreshed once before the fault", () -> storm.everyClientServedSince(0));
            long warmFrom = System.nanoTime();
            Await.until(WARM.plusSeconds(60), "the storm to warm up", () -> System.nanoTime() - warmFrom >= WARM.toNanos());

            stoppedAt = System.nanoTime();
            database.stop();
            long exchangeFrom = System.nanoTime();
            exchangeWhileDown = backend.exchange(responderCase.text("access_token"), "requested_token_type", REFRESH_TOKEN_TYPE);
            exchangeTook = Duration.ofNanos(System.nanoTime() - exchangeFrom);
            long revokeFrom = System.nanoTime();
            revokeWhileDown = admin.call("POST", "/" + realm.name + "/refresh-guard/families/" + responderFamily + "/revoke", null);
            revokeTook = Duration.ofNanos(System.nanoTime() - revokeFrom);
            Await.until(OUTAGE.plusSeconds(30), "the outage to last " + OUTAGE, () -> System.nanoTime() - stoppedAt >= OUTAGE.toNanos());
            // The database may accept connections (and serve refreshes) before startAgain() has noticed: "while down"
            // ends where its start begins.
            restartingAt = System.nanoTime();
            database.startAgain(); // returns once the database lets a client log in
            backAt = System.nanoTime();

            try {
                Await.until(RECOVERY_BOUND, "every client to be served again after the database came back",
                        () -> storm.everyClientServedSince(backAt));
            } catch (AssertionError e) {
                long t0 = stoppedAt;
                for (Answer a : storm.answers()) {
                    if (a.end() >= t0 - 2_000_000_000L && a.start() <= backAt + 3_000_000_000L) {
                        System.out.printf("DIAG client %d start %+d ms end %+d ms status %d %s gen %d%n", a.client(),
                                (a.start() - t0) / 1_000_000, (a.end() - t0) / 1_000_000, a.status(), a.error(), a.generation());
                    }
                }
                for (int i = 0; i < CLIENTS; i++) {
                    System.out.println("DIAG ledger " + i + " " + Ledger.of(server).family(families.get(i)) + " token gen "
                            + Oidc.claims(storm.token(i)).path("rg_gen").asInt());
                }
                System.out.println("DIAG back at " + (backAt - t0) / 1_000_000);
                throw e;
            }
        } finally {
            storm.stop();
        }
        List<Answer> answers = storm.answers();
        long firstServedAt = storm.firstServed(backAt);
        long allServedAt = storm.lastFirstServed(backAt);

        // While the database was away: nothing served, each answer within the bound.
        List<Answer> whileDown = answers.stream().filter(a -> a.startedIn(stoppedAt, restartingAt)).toList();
        assertThat(whileDown).as("requests answered while the database was away").isNotEmpty();
        assertThat(whileDown).as("answers while the database was away").noneMatch(a -> a.status() >= 200 && a.status() < 300);
        assertThat(whileDown).as("answers while down: Keycloak's 500 or our 503").allMatch(a -> a.status() == 500
                || a.status() == 503 && "temporarily_unavailable".equals(a.error()));
        Duration longest = answers.stream().map(Answer::elapsed).max(Duration::compareTo).orElseThrow();
        assertThat(answers).as("answers slower than " + ANSWER_BOUND).noneMatch(a -> a.elapsed().compareTo(ANSWER_BOUND) > 0);
        // After every client was served again: nothing but 200s (no 5xx after recovery).
        assertThat(answers.stream().filter(a -> a.start() >= allServedAt)).as("answers after recovery").allMatch(a -> a.status() == 200);

        // Our own lines: one WARN per 503, no stack trace, no uncaught error through the store.
        List<String> log = new ServerLog(server).lines();
        List<List<String>> entries = entries(log.subList(logFrom, log.size()));
        assertThat(entries).as("uncaught errors through refresh-guard's store").noneMatch(e -> e.get(0).contains("Uncaught server error")
                && e.stream().anyMatch(l -> l.startsWith("\tat dev.refreshguard.store.")));
        assertThat(entries).as("refresh-guard's log lines with a stack trace").noneMatch(e -> e.get(0).contains("[dev.refreshguard")
                && e.stream().skip(1).anyMatch(l -> l.startsWith("\tat ")));
        long served503 = whileDown.stream().filter(a -> a.status() == 503).count();
        long warned = log.subList(logFrom, log.size()).stream()
                .filter(l -> l.contains(" WARN ") && l.contains("the database could not be reached")).count();
        assertThat(warned).as("WARN lines for the 503s").isGreaterThanOrEqualTo(served503);

        // A token exchange and an admin revocation while the database was away: not served, answered within the bound.
        assertThat(exchangeWhileDown.status()).as("exchange while down: %s", exchangeWhileDown).isIn(500, 503);
        assertThat(exchangeTook).isLessThanOrEqualTo(ANSWER_BOUND);
        assertThat(revokeWhileDown.status()).as("admin revoke while down: %s", revokeWhileDown).isIn(500, 503);
        assertThat(revokeTook).isLessThanOrEqualTo(ANSWER_BOUND);
        assertThat(Ledger.of(server).family(responderFamily).get("state")).isEqualTo("ACTIVE");
        Reply revokedAfter = admin.call("POST", "/" + realm.name + "/refresh-guard/families/" + responderFamily + "/revoke", null);
        assertThat(revokedAfter.status()).as("admin revoke after the restart: %s", revokedAfter).isEqualTo(200);
        assertThat(Ledger.of(server).family(responderFamily).get("state")).isEqualTo("REVOKED");

        // Every honest client kept its family, and it keeps working.
        Ledger ledger = Ledger.of(server);
        for (int i = 0; i < CLIENTS; i++) {
            assertThat(ledger.family(families.get(i)).get("state")).as("family of client %s", i).isEqualTo("ACTIVE");
            Reply next = spa.refresh(storm.token(i));
            assertThat(next.status()).as("client %s after the restart: %s", i, next).isEqualTo(200);
        }
        Oidc.expectReuseDetected(spa.refresh(spent));

        Map<Integer, Long> byStatus = new LinkedHashMap<>();
        whileDown.forEach(a -> byStatus.merge(a.status(), 1L, Long::sum));
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("database", database.database().kind());
        details.put("outageMillis", (backAt - stoppedAt) / 1_000_000);
        details.put("answersWhileDown", byStatus.toString());
        details.put("firstServedAfterMillis", (firstServedAt - backAt) / 1_000_000);
        details.put("allServedAfterMillis", (allServedAt - backAt) / 1_000_000);
        details.put("longestAnswerMillis", longest.toMillis());
        details.put("requests", answers.size());
        details.put("exchangeWhileDown", exchangeWhileDown.status() + " in " + exchangeTook.toMillis() + " ms");
        details.put("adminRevokeWhileDown", revokeWhileDown.status() + " in " + revokeTook.toMillis() + " ms");
        System.out.println("[refresh-guard] DatabaseRestartIT " + details);
        Figures.record("DatabaseRestartIT-" + database.database().kind(), new Figures.Row(
                "Database server stopped at once and started again mid-storm (" + (backAt - stoppedAt) / 1_000_000 + " ms down), "
                        + CLIENTS + " clients, grace " + GRACE_SECONDS + " s (DatabaseRestartIT, " + database.database().kind() + ")",
                answers.size(), CLIENTS, 1, 0, (int) whileDown.stream().filter(a -> a.status() >= 500).count(),
                "no: 0 served while down (" + byStatus + "), longest answer " + longest.toMillis() + " ms, every client served again "
                        + (allServedAt - backAt) / 1_000_000 + " ms after, " + CLIENTS + "/" + CLIENTS
                        + " families kept, pre-fault token still reuse", details));
    }

    /** The log's entries: a line with a timestamp and the lines (a stack trace) up to the next one. */
    private static List<List<String>> entries(List<String> lines) {
        List<List<String>> entries = new ArrayList<>();
        for (String line : lines) {
            if (ENTRY_START.matcher(line).lookingAt() || entries.isEmpty()) {
                entries.add(new ArrayList<>());
            }
            entries.get(entries.size() - 1).add(line);
        }
        return entries;
    }
}
