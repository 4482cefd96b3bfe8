package dev.refreshguard.listener;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import com.fasterxml.jackson.databind.JsonNode;

import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.ServerLog;
import dev.refreshguard.harness.TestRealm;

/**
 * Issue 23, point 8: the RFC 7009 revocation endpoint. Revoking an online token leaves the same login's offline
 * families alone; a rotated-away token presented there is reuse and raises the alert (its family is revoked, as the
 * endpoint revokes any token's family).
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RevocationEndpointIT {

    private KeycloakServer server;

    @BeforeAll
    void server(KeycloakServer server) {
        this.server = server;
    }

    @Test
    void revokingAnOnlineTokenLeavesTheSameLoginsOfflineTokenWorking() {
        TestRealm realm = TestRealm.guarded(server, "rev-offline", Map.of());
        Oidc spa = realm.spa();
        Oidc.Browser browser = new Oidc.Browser();
        String online = ok(spa.authorizationCode(browser, "alice", "alice", TestRealm.REDIRECT)).text("refresh_token");
        String offline = ok(spa.authorizationCode(browser, "alice", "alice", TestRealm.REDIRECT, "openid offline_access"))
                .text("refresh_token");
        assertThat(Oidc.claims(offline).get("typ").asText()).isEqualTo("Offline");
        assertThat(Oidc.claims(offline).get("sid").asText()).as("one login").isEqualTo(Oidc.claims(online).get("sid").asText());

        Reply revoked = spa.revoke(online, "refresh_token");
        assertThat(revoked.status()).as("%s", revoked).isEqualTo(200);
        Reply refused = spa.refresh(online);
        assertThat(refused.status()).as("%s", refused).isEqualTo(400);
        assertThat(refused.text("error")).isEqualTo("invalid_grant");

        Reply stillServed = ok(spa.refresh(offline));
        assertThat(Oidc.claims(stillServed.text("refresh_token")).get("rg_fid").asText())
                .isEqualTo(Oidc.claims(offline).get("rg_fid").asText());
        assertThat(realm.admin.events(realm.name, "REFRESH_TOKEN_ERROR", "refresh_token_reused")).isEmpty();
    }

    @Test
    void aRotatedAwayTokenAtTheRevocationEndpointRaisesTheReuseAlert() {
        TestRealm realm = TestRealm.guarded(server, "rev-reuse", Map.of());
        Oidc spa = realm.spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        String r1 = ok(spa.refresh(r0)).text("refresh_token");
        String familyId = Oidc.claims(r1).get("rg_fid").asText();

        Reply revoked = spa.revoke(r0, "refresh_token");
        assertThat(revoked.status()).as("RFC 7009 answers 200: %s", revoked).isEqualTo(200);

        List<JsonNode> alerts = Await.value(Duration.ofSeconds(10), "the reuse alert event", () -> {
            List<JsonNode> found = realm.admin.events(realm.name, "REFRESH_TOKEN_ERROR", "refresh_token_reused");
            return found.isEmpty() ? null : found;
        });
        assertThat(alerts).hasSize(1);
        JsonNode details = alerts.get(0).get("details");
        assertThat(details.get("family_id").asText()).isEqualTo(familyId);
        assertThat(details.get("generation").asText()).isEqualTo("0");
        assertThat(details.get("latest_generation").asText()).isEqualTo("1");
        assertThat(details.get("action").asText()).isEqualTo("revoke-family");
        assertThat(alerts.get(0).get("clientId").asText()).isEqualTo("spa");
        assertThat(new ServerLog(server).awaitAlertOfFamily(familyId).get("alert").asText()).isEqualTo("refresh_token_reused");

        Reply newest = spa.refresh(r1);
        assertThat(newest.status()).as("the family is revoked: %s", newest).isEqualTo(400);
    }

    @Test
    void revokingTheNewestTokenRaisesNoAlert() {
        TestRealm realm = TestRealm.guarded(server, "rev-newest", Map.of());
        Oidc spa = realm.spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        String r1 = ok(spa.refresh(r0)).text("refresh_token");
        assertThat(spa.revoke(r1, "refresh_token").status()).isEqualTo(200);
        assertThat(spa.refresh(r1).status()).isEqualTo(400);
        Await.until(Duration.ofSeconds(10), "the revocation event", () -> !realm.admin.events(realm.name, "REVOKE_GRANT").isEmpty());
        assertThat(realm.admin.events(realm.name, "REFRESH_TOKEN_ERROR", "refresh_token_reused")).isEmpty();
    }

    private static Reply ok(Reply reply) {
        assertThat(reply.status()).as("%s", reply).isEqualTo(200);
        return reply;
    }
}
