package dev.refreshguard.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.Admin;
import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.Database;
import dev.refreshguard.harness.DistributionServer;
import dev.refreshguard.harness.FaultProxy;
import dev.refreshguard.harness.Figures;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.Ledger;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.ServerLog;
import dev.refreshguard.harness.TestRealm;

/**
 * The database goes away in the middle of a refresh storm: a Keycloak of its own reaches its database only through a
 * {@link FaultProxy}, clients refresh in a loop (keeping their token on any failure, as a well-behaved client does),
 * and the proxy cuts every connection and refuses new ones for {@link #OUTAGE}. Proven: no refresh, token exchange or
 * admin revocation is answered 2xx while the ledger cannot be written (the revocation is done by the retry after), every answer comes within {@link #ANSWER_BOUND}, refreshes are served again
 * within seconds once the proxy lets traffic through, with grace at least the outage no honest client loses its
 * family, and a token rotated away before the fault is still reuse after it. Also: the {@code lock-timeout} server
 * option, set here to 3, shows in the server info. PostgreSQL, and MariaDB with {@code -Dit.db=mariadb}.
 */
@ExtendWith(RealServer.class) // for its skip when the run's database is absent; this class starts its own server
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DatabaseOutageIT {

    private static final int CLIENTS = 6;
    private static final Duration PACE = Duration.ofMillis(100);
    private static final Duration WARM = Duration.ofSeconds(3);
    private static final Duration OUTAGE = Duration.ofSeconds(8);
    /** The bound on any answer while the database is away. */
    private static final Duration ANSWER_BOUND = Duration.ofSeconds(10);
    /** Generous on a shared 2-core machine; the measured figure is what the docs report. */
    private static final Duration RECOVERY_BOUND = Duration.ofSeconds(30);
    private static final int GRACE_SECONDS = 30;
    private static final int LOCK_TIMEOUT = 3;
    /** Keycloak's console format starts each entry with its date and time. */
    private static final Pattern ENTRY_START = Pattern.compile("\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2},\\d{3} ");
    private static final String BACKEND_SECRET = "backend-secret-0123456789";
    private static final String REFRESH_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:refresh_token";

    private FaultProxy proxy;
    private DistributionServer server;
    private TestRealm realm;

    @BeforeAll
    void serverBehindTheProxy() {
        proxy = FaultProxy.to(Database.selected().address());
        String database = "rg_faults_" + System.currentTimeMillis();
        server = DistributionServer.startFromCopy("faults", database, List.of(
                "--db-url=" + Database.selected().keycloakUrlThrough(database, proxy.address()),
                "--spi-refresh-guard--refresh-guard--lock-timeout=" + LOCK_TIMEOUT), Map.of());
        // Grace at least the outage: a refresh whose commit reached the database but whose answer was lost can be retried.
        realm = TestRealm.guarded(server, "outage", Map.of("refresh.guard.grace.seconds", String.valueOf(GRACE_SECONDS)));
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
        if (proxy != null) {
            proxy.refuse(false);
        }
        if (server != null) {
            server.close();
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void theLockTimeoutOptionShowsInTheServerInfo() {
        JsonNode info = new Admin(server).admin("GET", "/serverinfo", null).json()
                .path("providers").path("refresh-guard").path("providers").path("refresh-guard").path("operationalInfo");
        assertThat(info.path("lock-timeout").asText()).as("server info: %s", info).isEqualTo(String.valueOf(LOCK_TIMEOUT));
    }

    @Test
    void databaseCutMidStormFailsClosedAndRecovers() {
        Oidc spa = realm.spa();
        // A token rotated away before the fault (and its successor used too, so grace does not apply): reuse after it.
        Reply victim = spa.password("alice", "alice");
        String spent = victim.text("refresh_token");
        Reply second = spa.refresh(spent);
        assertThat(second.status()).isEqualTo(200);
        assertThat(spa.refresh(second.text("refresh_token")).status()).isEqualTo(200);

        List<AtomicReference<String>> tokens = new ArrayList<>();
        List<String> families = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            Reply login = spa.password("storm" + i, "storm" + i);
            assertThat(login.status()).as("login: %s", login).isEqualTo(200);
            tokens.add(new AtomicReference<>(login.text("refresh_token")));
            families.add(Oidc.claims(login.text("refresh_token")).get("rg_fid").asText());
        }

        // A family an incident responder revokes and one a backend exchanges from, while the database is away.
        Reply responderCase = spa.password("bob", "bob");
        String responderFamily = Oidc.claims(responderCase.text("refresh_token")).get("rg_fid").asText();
        Oidc backend = realm.confidential("backend", BACKEND_SECRET);
        Admin admin = new Admin(server);
        admin.token(); // signed in before the fault: the admin's own login needs the database

        Queue<Answer> answers = new ConcurrentLinkedQueue<>();
        Reply exchangeWhileDown;
        Reply revokeWhileDown;
        Duration exchangeTook;
        Duration revokeTook;
        ScheduledExecutorService storm = Executors.newScheduledThreadPool(CLIENTS);
        long cutAt;
        long restoredAt;
        try {
            for (int i = 0; i < CLIENTS; i++) {
                int client = i;
                storm.scheduleWithFixedDelay(() -> answers.add(refresh(spa, client, tokens.get(client))),
                        0, PACE.toMillis(), TimeUnit.MILLISECONDS);
            }
            Await.until(WARM.plusSeconds(60), "every client refreshed once before the fault",
                    () -> servedSince(answers, 0) >= CLIENTS);
            long warmFrom = System.nanoTime();
            Await.until(WARM.plusSeconds(60), "the storm to warm up", () -> System.nanoTime() - warmFrom >= WARM.toNanos());

            cutAt = System.nanoTime();
            proxy.refuse(true);
            proxy.cut();
            long exchangeFrom = System.nanoTime();
            exchangeWhileDown = backend.exchange(responderCase.text("access_token"), "requested_token_type", REFRESH_TOKEN_TYPE);
            exchangeTook = Duration.ofNanos(System.nanoTime() - exchangeFrom);
            long revokeFrom = System.nanoTime();
            revokeWhileDown = admin.call("POST", "/" + realm.name + "/refresh-guard/families/" + responderFamily + "/revoke", null);
            revokeTook = Duration.ofNanos(System.nanoTime() - revokeFrom);
            Await.until(OUTAGE.plusSeconds(30), "the outage to last " + OUTAGE, () -> System.nanoTime() - cutAt >= OUTAGE.toNanos());
            restoredAt = System.nanoTime();
            proxy.refuse(false);

            Await.until(RECOVERY_BOUND, "every client to be served again after the database came back",
                    () -> everyClientServedSince(answers, restoredAt));
        } finally {
            storm.shutdownNow();
        }
        Await.until(Duration.ofSeconds(70), "the storm's last requests to end", storm::isTerminated);
        long recoveredAt = answers.stream().filter(a -> a.start >= restoredAt && a.status == 200)
                .mapToLong(a -> a.end).min().orElseThrow();
        long allRecoveredAt = lastFirstServed(answers, restoredAt);

        // While the database was away: nothing served, each answer within the bound.
        List<Answer> whileDown = answers.stream().filter(a -> a.start >= cutAt && a.end <= restoredAt).toList();
        assertThat(whileDown).as("requests answered while the database was away").isNotEmpty();
        assertThat(whileDown).as("answers while the database was away").noneMatch(a -> a.status >= 200 && a.status < 300);
        Duration longest = answers.stream().map(Answer::elapsed).max(Duration::compareTo).orElseThrow();
        assertThat(answers).as("answers slower than " + ANSWER_BOUND).noneMatch(a -> a.elapsed().compareTo(ANSWER_BOUND) > 0);

        // Where refresh-guard's own statement met the fault: 503 temporarily_unavailable and one WARN line, never an
        // uncaught error through the store, and no stack trace in refresh-guard's own log lines. (Narayana and Agroal
        // log their own warnings, with stack traces, when a pooled connection died; those are theirs.)
        List<String> log = new ServerLog(server).lines();
        List<List<String>> entries = entries(log);
        assertThat(entries).as("uncaught errors through refresh-guard's store").noneMatch(e -> e.get(0).contains("Uncaught server error")
                && e.stream().anyMatch(l -> l.startsWith("\tat dev.refreshguard.store.")));
        assertThat(entries).as("refresh-guard's log lines with a stack trace").noneMatch(e -> e.get(0).contains("[dev.refreshguard")
                && e.stream().skip(1).anyMatch(l -> l.startsWith("\tat ")));
        long served503 = whileDown.stream().filter(a -> a.status == 503).count();
        long warned = log.stream().filter(l -> l.contains(" WARN ") && l.contains("the database could not be reached")).count();
        assertThat(warned).as("WARN lines for the 503s").isGreaterThanOrEqualTo(served503);
        assertThat(whileDown).as("answers while down").allMatch(a -> a.status == 500 || a.status == 503);

        // A token exchange and an admin revocation while the database was away: not served, answered within the bound.
        assertThat(exchangeWhileDown.status()).as("exchange while down: %s", exchangeWhileDown).isIn(500, 503);
        assertThat(exchangeTook).isLessThanOrEqualTo(ANSWER_BOUND);
        assertThat(revokeWhileDown.status()).as("admin revoke while down: %s", revokeWhileDown).isIn(500, 503);
        assertThat(revokeTook).isLessThanOrEqualTo(ANSWER_BOUND);
        // Nothing was revoked; the responder's retry after recovery does it.
        assertThat(Ledger.of(server).family(responderFamily).get("state")).isEqualTo("ACTIVE");
        Reply revokedAfter = admin.call("POST", "/" + realm.name + "/refresh-guard/families/" + responderFamily + "/revoke", null);
        assertThat(revokedAfter.status()).as("admin revoke after recovery: %s", revokedAfter).isEqualTo(200);
        assertThat(Ledger.of(server).family(responderFamily).get("state")).isEqualTo("REVOKED");

        // Every honest client kept its family, and it keeps working.
        Ledger ledger = Ledger.of(server);
        for (int i = 0; i < CLIENTS; i++) {
            assertThat(ledger.family(families.get(i)).get("state")).as("family of client %s", i).isEqualTo("ACTIVE");
            Reply next = spa.refresh(tokens.get(i).get());
            assertThat(next.status()).as("client %s after recovery: %s", i, next).isEqualTo(200);
        }
        // A token rotated away before the fault is still reuse after it.
        Reply reuse = spa.refresh(spent);
        assertThat(reuse.status()).as("reuse after the fault: %s", reuse).isEqualTo(400);
        assertThat(reuse.text("error_description")).contains("reuse");

        Map<Integer, Long> byStatus = new LinkedHashMap<>();
        whileDown.forEach(a -> byStatus.merge(a.status, 1L, Long::sum));
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("database", Database.selected().kind());
        details.put("outageMillis", (restoredAt - cutAt) / 1_000_000);
        details.put("answersWhileDown", byStatus.toString());
        details.put("firstServedAfterMillis", (recoveredAt - restoredAt) / 1_000_000);
        details.put("allServedAfterMillis", (allRecoveredAt - restoredAt) / 1_000_000);
        details.put("longestAnswerMillis", longest.toMillis());
        details.put("requests", answers.size());
        details.put("exchangeWhileDown", exchangeWhileDown.status() + " in " + exchangeTook.toMillis() + " ms");
        details.put("adminRevokeWhileDown", revokeWhileDown.status() + " in " + revokeTook.toMillis() + " ms");
        System.out.println("[refresh-guard] DatabaseOutageIT " + details);
        Figures.record("DatabaseOutageIT-" + Database.selected().kind(), new Figures.Row(
                "Database cut and refused for " + OUTAGE.toSeconds() + " s mid-storm, " + CLIENTS + " clients, grace "
                        + GRACE_SECONDS + " s (DatabaseOutageIT, " + Database.selected().kind() + ")",
                answers.size(), CLIENTS, 1, 0, (int) whileDown.stream().filter(a -> a.status >= 500).count(),
                "no: 0 served while down (" + byStatus + "), longest answer " + longest.toMillis() + " ms, every client served again "
                        + (allRecoveredAt - restoredAt) / 1_000_000 + " ms after, " + CLIENTS + "/" + CLIENTS
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

    /** One refresh of a client that keeps its token on any failure and takes the new one on success. */
    private static Answer refresh(Oidc spa, int client, AtomicReference<String> token) {
        long start = System.nanoTime();
        int status;
        try {
            Reply reply = spa.refresh(token.get());
            status = reply.status();
            if (status == 200) {
                token.set(reply.text("refresh_token"));
            }
        } catch (RuntimeException noAnswer) {
            status = -1; // no HTTP answer at all (the client's own timeout)
        }
        return new Answer(client, start, System.nanoTime(), status);
    }

    private static long servedSince(Queue<Answer> answers, long since) {
        return answers.stream().filter(a -> a.start >= since && a.status == 200).map(Answer::client).distinct().count();
    }

    private static boolean everyClientServedSince(Queue<Answer> answers, long since) {
        return servedSince(answers, since) >= CLIENTS;
    }

    /** When the last client got its first 200 after {@code since}. */
    private static long lastFirstServed(Queue<Answer> answers, long since) {
        long last = since;
        for (int client = 0; client < CLIENTS; client++) {
            int c = client;
            last = Math.max(last, answers.stream().filter(a -> a.client == c && a.start >= since && a.status == 200)
                    .mapToLong(Answer::end).min().orElse(Long.MAX_VALUE));
        }
        return last;
    }

    private record Answer(int client, long start, long end, int status) {
        Duration elapsed() {
            return Duration.ofNanos(end - start);
        }
    }
}
