package dev.refreshguard.reliability;

import static dev.refreshguard.reliability.Timed.timed;
import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.Admin;
import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.Database;
import dev.refreshguard.harness.FaultProxy;
import dev.refreshguard.harness.Figures;
import dev.refreshguard.harness.Http;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Ledger;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.Racers;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.ServerLog;
import dev.refreshguard.harness.TestRealm;

/**
 * A family whose row lock is held by a client that vanished (a node whose host died mid-request: the database never
 * hears it left, so its transaction and locks stay): every refresh and exchange of that family answers 503
 * {@code temporarily_unavailable} within the {@code lock-timeout} bound instead of pinning a worker thread, other
 * families are served meanwhile, and once the database ends the dead transaction the family refreshes on with the
 * very token that got the 503s. An admin revocation of the locked family is bounded the same way (409: the admin API
 * answers no 5xx). The vanished client is a real JDBC connection through a {@link FaultProxy} that
 * locked the row and then lost its client side while the proxy keeps the database side open. On the shared server
 * (the default bound, 5 s); runs on PostgreSQL and, with {@code -Dit.db=mariadb}, on MariaDB.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LockTimeoutIT {

    /** The default {@code lock-timeout} (LedgerSettings), which the shared server runs with. */
    private static final int BOUND_SECONDS = 5;
    /** What a loaded 2-core machine may add to the bound: the request's own work, the cancel's round trip. */
    private static final Duration SLACK = Duration.ofSeconds(6);
    private static final int WAITERS = 4;
    private static final String REFRESH_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:refresh_token";
    private static final String BACKEND_SECRET = "backend-secret-0123456789";
    private static final String WARN = "stayed locked by another transaction";

    private KeycloakServer server;
    private TestRealm realm;
    private Oidc spa;
    private Oidc backend;

    @BeforeAll
    void realm(KeycloakServer server) {
        this.server = server;
        realm = TestRealm.guarded(server, "locks", Map.of());
        realm.addConfidentialClient("backend", BACKEND_SECRET, Map.of("attributes", Map.of(
                "standard.token.exchange.enabled", "true",
                "standard.token.exchange.enableRefreshRequestedTokenType", "SAME_SESSION")));
        realm.addAudience("spa", "backend");
        spa = realm.spa();
        backend = realm.confidential("backend", BACKEND_SECRET);
    }

    @Test
    void serverInfoShowsTheBound() {
        JsonNode info = new Admin(server).admin("GET", "/serverinfo", null).json()
                .path("providers").path("refresh-guard").path("providers").path("refresh-guard").path("operationalInfo");
        assertThat(info.path("lock-timeout").asText()).as("server info: %s", info).isEqualTo(String.valueOf(BOUND_SECONDS));
    }

    @Test
    void aFamilyLockedByAVanishedClientAnswers503WithinTheBoundAndRefreshesOnOnceTheDatabaseEndsIt() throws SQLException {
        Reply locked = login("alice");
        String token = locked.text("refresh_token");
        String family = Oidc.claims(token).get("rg_fid").asText();
        String otherToken = login("bob").text("refresh_token");
        ServerLog log = new ServerLog(server);
        int logFrom = log.lines().size();
        double countedBefore = lockTimeouts();

        try (FaultProxy path = FaultProxy.to(Database.selected().address())) {
            lockThenVanish(path, family);

            // Several clients retrying the locked family at once, and another family meanwhile.
            List<Timed> answers = Racers.race(WAITERS + 1, Duration.ofSeconds(120),
                    i -> timed(() -> spa.refresh(i < WAITERS ? token : otherToken)));
            for (Timed waiter : answers.subList(0, WAITERS)) {
                assertThat(waiter.reply().status()).as("refresh of the locked family: %s", waiter).isEqualTo(503);
                assertThat(waiter.reply().text("error")).isEqualTo("temporarily_unavailable");
                // It waited for the lock (a 503 that came at once would be another fault) and no longer than the bound.
                assertThat(waiter.elapsed()).as("%s", waiter).isGreaterThanOrEqualTo(Duration.ofSeconds(BOUND_SECONDS).minusMillis(500))
                        .isLessThanOrEqualTo(Duration.ofSeconds(BOUND_SECONDS).plus(SLACK));
            }
            Timed other = answers.get(WAITERS);
            assertThat(other.reply().status()).as("another family while one is locked: %s", other).isEqualTo(200);
            assertThat(other.elapsed()).as("%s", other).isLessThan(Duration.ofSeconds(BOUND_SECONDS));

            // A token exchange whose subject token comes from the locked family: bounded the same way.
            Timed exchange = timed(() -> backend.exchange(locked.text("access_token"), "requested_token_type", REFRESH_TOKEN_TYPE));
            assertThat(exchange.reply().status()).as("exchange from the locked family: %s", exchange).isEqualTo(503);
            assertThat(exchange.reply().text("error")).isEqualTo("temporarily_unavailable");
            assertThat(exchange.elapsed()).isLessThanOrEqualTo(Duration.ofSeconds(BOUND_SECONDS).plus(SLACK));

            // An incident responder's revocation of the locked family: bounded the same way, nothing revoked; the admin
            // API answers no 5xx: 409, retry.
            Timed revoke = timed(() -> new Admin(server).admin("POST", "/realms/" + realm.name + "/refresh-guard/families/"
                    + family + "/revoke", null));
            assertThat(revoke.reply().status()).as("admin revocation of the locked family: %s", revoke).isEqualTo(409);
            assertThat(revoke.reply().body()).contains("locked by another transaction");
            assertThat(revoke.elapsed()).isLessThanOrEqualTo(Duration.ofSeconds(BOUND_SECONDS).plus(SLACK));

            // Nothing was rotated by the refused refreshes: the ledger still holds generation 0 (a plain read does not wait).
            Map<String, Object> row = Ledger.of(server).family(family);
            assertThat(((Number) row.get("generation")).intValue()).isZero();
            assertThat(row.get("state")).isEqualTo("ACTIVE");

            // The operator sees one WARN line per refused request, without a stack trace, and a counter.
            List<String> warnings = log.lines().subList(logFrom, log.lines().size()).stream().filter(l -> l.contains(WARN)).toList();
            assertThat(warnings).as("WARN lines").hasSize(WAITERS + 2).allMatch(l -> l.contains(" WARN "));
            assertThat(warnings.stream().filter(l -> l.contains("answered 503 temporarily_unavailable"))).hasSize(WAITERS + 1);
            assertThat(warnings.stream().filter(l -> l.contains("Admin revocation") && l.contains("answered 409"))).hasSize(1);
            assertThat(warnings.stream().filter(l -> l.contains(family))).as("naming the family").hasSize(WAITERS + 1);
            assertThat(log.lines().subList(logFrom, log.lines().size()))
                    .as("no stack trace, no uncaught error").noneMatch(l -> l.startsWith("\tat ") || l.contains("Uncaught server error"));
            assertThat(lockTimeouts() - countedBefore).as("refresh_guard_unavailable_total{reason=lock-timeout}").isEqualTo(WAITERS + 2);

            path.releaseVanished();
            // The database ends the vanished transaction once its connection closes; the family then refreshes on,
            // with the very token that got the 503s.
            Reply after = Await.value(Duration.ofSeconds(60), "the family to refresh once the dead transaction ended", () -> {
                Reply r = spa.refresh(token);
                return r.status() == 503 ? null : r;
            });
            assertThat(after.status()).as("refresh after the lock is gone: %s", after).isEqualTo(200);
            Reply reuse = spa.refresh(token);
            assertThat(reuse.status()).as("the token is now rotated away: %s", reuse).isEqualTo(400);
            assertThat(reuse.text("error_description")).contains("reuse");

            Figures.record("LockTimeoutIT-" + Database.selected().kind(), new Figures.Row(
                    "A family locked by a vanished client, " + WAITERS + " concurrent refreshes, 1 exchange, 1 admin revocation (409), lock-timeout "
                            + BOUND_SECONDS + " s (LockTimeoutIT, " + Database.selected().kind() + ")",
                    WAITERS + 5, WAITERS + 1, 1, 0, WAITERS + 1,
                    "no: generation 0 while locked; longest wait " + longest(answers, exchange, revoke).toMillis()
                            + " ms; other family served in " + other.elapsed().toMillis() + " ms", Map.of()));
        }
    }

    /**
     * A connection through {@code path} locks the family's row in an open transaction; then its host "vanishes":
     * the proxy resets the client side and keeps the database side open and silent.
     */
    private void lockThenVanish(FaultProxy path, String family) throws SQLException {
        Connection locker = Database.connect(Database.selected().through(server.jdbcUrl(), path.address()));
        locker.setAutoCommit(false);
        try (PreparedStatement lock = locker.prepareStatement("SELECT ID FROM RG_FAMILY WHERE ID = ? FOR UPDATE")) {
            lock.setString(1, family);
            try (ResultSet row = lock.executeQuery()) {
                assertThat(row.next()).as("the family row").isTrue();
            }
        }
        assertThat(path.vanish()).as("connections vanished").isEqualTo(1);
        try {
            locker.close();
        } catch (SQLException gone) {
            // its socket was reset: nothing reaches the database
        }
    }

    private Reply login(String user) {
        Reply login = spa.password(user, user);
        assertThat(login.status()).as("login: %s", login).isEqualTo(200);
        return login;
    }

    private double lockTimeouts() {
        String metrics = new Http().get(server.managementUrl() + "/metrics", null).body();
        return metrics.lines().filter(l -> l.startsWith("refresh_guard_unavailable_total{") && l.contains("realm=\"" + realm.name + "\"")
                        && l.contains("reason=\"lock-timeout\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    private static Duration longest(List<Timed> answers, Timed... more) {
        List<Timed> all = new ArrayList<>(answers);
        all.addAll(List.of(more));
        return all.stream().map(t -> t.elapsed()).max(Duration::compareTo).orElseThrow();
    }
}
