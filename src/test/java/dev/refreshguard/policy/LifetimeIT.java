package dev.refreshguard.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.TestRealm;

/**
 * A refresh token's exp (and refresh_expires_in) is the earliest of Keycloak's limit, last refresh + idle and family
 * start + max, from the grant's first token on; rotation never extends max; offline tokens use the offline values.
 * Short limits (seconds) and waits on the clock, never sleeps.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LifetimeIT {

    private TestRealm realm;

    @BeforeAll
    void realm(KeycloakServer server) {
        realm = TestRealm.guarded(server, "lifetime", Map.of());
    }

    /** A new public client of the realm with the given attributes. */
    private Oidc client(Map<String, String> attributes) {
        String clientId = "life-" + UUID.randomUUID().toString().substring(0, 8);
        realm.addPublicClient(clientId);
        realm.clientAttributes(clientId, attributes);
        return realm.oidc(clientId);
    }

    private static long claim(String jwt, String name) {
        return Oidc.claims(jwt).get(name).asLong();
    }

    private List<JsonNode> errorEvents(Oidc client, String error) {
        return realm.admin.events(realm.name, "REFRESH_TOKEN_ERROR", error).stream()
                .filter(e -> client.clientId().equals(e.path("clientId").asText())).toList();
    }

    private JsonNode awaitErrorEvent(Oidc client, String error) {
        return Await.value(Duration.ofSeconds(30), "a REFRESH_TOKEN_ERROR event " + error + " of " + client.clientId(),
                () -> errorEvents(client, error).stream().findFirst().orElse(null));
    }

    /** exp of the refresh token and refresh_expires_in of the response agree (the response is built a moment later). */
    private static void assertExpiresIn(Reply reply, long expectedSeconds) {
        long expiresIn = reply.json().get("refresh_expires_in").asLong();
        assertThat(expiresIn).as("refresh_expires_in of %s", reply).isBetween(expectedSeconds - 1, expectedSeconds);
    }

    @Test
    void idleLimitsTheFirstTokenAndEveryRefresh() {
        Oidc oidc = client(Map.of("refresh.guard.idle.seconds", "40", "refresh.guard.max.seconds", "100"));
        Reply login = oidc.password("alice", "alice");
        String token = login.text("refresh_token");
        assertThat(claim(token, "exp")).isEqualTo(claim(token, "iat") + 40);
        assertThat(claim(token, "rg_fst")).isEqualTo(claim(token, "iat"));
        assertExpiresIn(login, 40);

        Reply refreshed = oidc.refresh(token);
        String next = refreshed.text("refresh_token");
        assertThat(claim(next, "exp")).isEqualTo(Math.min(claim(next, "iat") + 40, claim(token, "rg_fst") + 100));
        assertThat(claim(next, "rg_fst")).isEqualTo(claim(token, "rg_fst"));
        assertExpiresIn(refreshed, claim(next, "exp") - claim(next, "iat"));
    }

    @Test
    void maxLimitsTheFirstTokenWhenItIsEarliest() {
        assertFirstTokenLivesFor(Map.of("refresh.guard.max.seconds", "30"), 30);
    }

    @Test
    void keycloaksOwnLimitWinsWhenItIsEarliest() {
        // Keycloak's client session idle (20 s) is earlier than refresh-guard's idle (40 s).
        assertFirstTokenLivesFor(Map.of("refresh.guard.idle.seconds", "40", "client.session.idle.timeout", "20"), 20);
    }

    private void assertFirstTokenLivesFor(Map<String, String> attributes, long seconds) {
        Reply login = client(attributes).password("alice", "alice");
        String token = login.text("refresh_token");
        assertThat(claim(token, "exp")).isEqualTo(claim(token, "iat") + seconds);
        assertExpiresIn(login, seconds);
    }

    @Test
    void rotationNeverExtendsTheFamilysMax() {
        Oidc oidc = client(Map.of("refresh.guard.idle.seconds", "3", "refresh.guard.max.seconds", "6"));
        String first = oidc.password("alice", "alice").text("refresh_token");
        long start = claim(first, "rg_fst");
        assertThat(claim(first, "exp")).isEqualTo(start + 3);

        AtomicReference<String> latest = new AtomicReference<>(first);
        AtomicInteger atMax = new AtomicInteger();
        AtomicInteger refreshes = new AtomicInteger();
        // Refresh again and again until a second before the family's max: exp never passes start + max.
        Await.until(Duration.ofSeconds(30), "refreshes up to a second before the family's max", () -> {
            Reply reply = oidc.refresh(latest.get());
            assertThat(reply.status()).as("refresh %d: %s", refreshes.get(), reply).isEqualTo(200);
            String token = reply.text("refresh_token");
            long exp = claim(token, "exp");
            assertThat(claim(token, "rg_fst")).isEqualTo(start);
            assertThat(exp).isEqualTo(Math.min(claim(token, "iat") + 3, start + 6));
            if (exp == start + 6) {
                atMax.incrementAndGet();
            }
            refreshes.incrementAndGet();
            latest.set(token);
            return Instant.now().getEpochSecond() >= start + 5;
        });
        assertThat(atMax.get()).as("refreshes whose exp is the family's max").isPositive();

        // Past max: the token's own exp has passed, so Keycloak refuses it before refresh-guard runs.
        Await.pastEpochSecond(start + 6);
        Reply late = oidc.refresh(latest.get());
        assertThat(late.status()).isEqualTo(400);
        assertThat(late.text("error")).isEqualTo("invalid_grant");
        assertThat(late.text("error_description")).isEqualTo("Token is not active");
        assertThat(awaitErrorEvent(oidc, "invalid_token").path("details").path("reason").asText()).isEqualTo("Token is not active");
    }

    @Test
    void aTokenPastIdleIsRefused() {
        Oidc oidc = client(Map.of("refresh.guard.idle.seconds", "2"));
        String token = oidc.password("alice", "alice").text("refresh_token");
        Await.pastEpochSecond(claim(token, "exp"));
        Reply late = oidc.refresh(token);
        assertThat(late.status()).isEqualTo(400);
        assertThat(late.text("error")).isEqualTo("invalid_grant");
        awaitErrorEvent(oidc, "invalid_token");
    }

    @Test
    void loweringMaxAfterIssuanceExpiresTheFamilyWithRefreshGuardsError() {
        Oidc oidc = client(Map.of("refresh.guard.max.seconds", "600"));
        String token = oidc.password("alice", "alice").text("refresh_token");
        long start = claim(token, "rg_fst");
        realm.clientAttributes(oidc.clientId(), Map.of("refresh.guard.max.seconds", "2"));
        Await.pastEpochSecond(start + 2);
        assertThat(claim(token, "exp")).isGreaterThan(Instant.now().getEpochSecond());

        Reply late = oidc.refresh(token);
        assertThat(late.status()).isEqualTo(400);
        assertThat(late.text("error")).isEqualTo("invalid_grant");
        assertThat(late.text("error_description")).isEqualTo("Refresh token expired: past the idle or maximum lifetime of its family");
        JsonNode event = awaitErrorEvent(oidc, "refresh_token_expired");
        assertThat(event.path("details").path("family_id").asText()).isEqualTo(Oidc.claims(token).get("rg_fid").asText());
    }

    @Test
    void loweringIdleAfterIssuanceExpiresTheTokenWithRefreshGuardsError() {
        Oidc oidc = client(Map.of("refresh.guard.idle.seconds", "600"));
        String token = oidc.password("alice", "alice").text("refresh_token");
        realm.clientAttributes(oidc.clientId(), Map.of("refresh.guard.idle.seconds", "2"));
        Await.pastEpochSecond(claim(token, "iat") + 2);

        Reply late = oidc.refresh(token);
        assertThat(late.status()).isEqualTo(400);
        assertThat(late.text("error")).isEqualTo("invalid_grant");
        awaitErrorEvent(oidc, "refresh_token_expired");
    }

    @Test
    void offlineTokensUseTheOfflineValues() {
        Oidc oidc = client(Map.of("refresh.guard.idle.seconds", "100", "refresh.guard.max.seconds", "200",
                "refresh.guard.offline.idle.seconds", "50", "refresh.guard.offline.max.seconds", "70"));
        Reply online = oidc.password("alice", "alice");
        String onlineToken = online.text("refresh_token");
        assertThat(claim(onlineToken, "exp")).isEqualTo(claim(onlineToken, "iat") + 100);

        Reply offline = oidc.password("alice", "alice", "scope", "openid offline_access");
        assertThat(offline.status()).as("%s", offline).isEqualTo(200);
        String offlineToken = offline.text("refresh_token");
        assertThat(Oidc.claims(offlineToken).get("typ").asText()).isEqualTo("Offline");
        assertThat(claim(offlineToken, "exp")).isEqualTo(claim(offlineToken, "iat") + 50);
        assertExpiresIn(offline, 50);

        Reply refreshed = oidc.refresh(offlineToken);
        assertThat(refreshed.status()).as("%s", refreshed).isEqualTo(200);
        String next = refreshed.text("refresh_token");
        assertThat(claim(next, "exp")).isEqualTo(Math.min(claim(next, "iat") + 50, claim(offlineToken, "rg_fst") + 70));

        // The offline max lowered after issuance: refresh-guard ends the offline family.
        realm.clientAttributes(oidc.clientId(), Map.of("refresh.guard.offline.idle.seconds", "0",
                "refresh.guard.offline.max.seconds", "2"));
        Await.pastEpochSecond(claim(offlineToken, "rg_fst") + 2);
        Reply late = oidc.refresh(next);
        assertThat(late.status()).isEqualTo(400);
        assertThat(late.text("error")).isEqualTo("invalid_grant");
        awaitErrorEvent(oidc, "refresh_token_expired");
        // The online family has its own, unchanged limits.
        assertThat(oidc.refresh(onlineToken).status()).isEqualTo(200);
    }
}
