package dev.refreshguard.refresh;

import static dev.refreshguard.harness.Oidc.expectReuseDetected;
import static dev.refreshguard.refresh.AdoptionIT.event;
import static dev.refreshguard.refresh.AdoptionIT.ok;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.oauth2.sdk.dpop.DefaultDPoPProofFactory;

import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.Http;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.ServerLog;
import dev.refreshguard.harness.TestRealm;

/**
 * Issue 23, point 1: Keycloak refreshes without building a new refresh token — client attribute
 * {@code use.refresh.tokens=false}, or the client-policy executor {@code suppress-refresh-token-rotation}. The presented
 * token is still judged by the ledger (only the family's newest, of an active family), the policy endpoint names the
 * setting, and a public client without DPoP keeps rotating.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NoSuccessorIT {

    private KeycloakServer server;

    @BeforeAll
    void server(KeycloakServer server) {
        this.server = server;
    }

    @Test
    void useRefreshTokensOffStillRefusesARotatedAwayToken() {
        TestRealm realm = TestRealm.guarded(server, "no-rt", Map.of());
        Oidc spa = realm.spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        String r1 = ok(spa.refresh(r0)).text("refresh_token");
        realm.clientAttributes("spa", Map.of("use.refresh.tokens", "false"));

        // The newest token keeps working, without a successor and without moving the family.
        for (int i = 0; i < 2; i++) {
            Reply served = ok(spa.refresh(r1));
            assertThat(served.text("access_token")).isNotBlank();
            assertThat(served.json().has("refresh_token")).as("no refresh token: %s", served).isFalse();
        }
        // Two refreshes, one line: the client and the setting that stops its rotation, as the policy endpoint says.
        JsonNode overridden = rotationOverridden(realm, "spa", "WARN");
        assertThat(overridden.get("rotation").get("effective").asText()).isEqualTo("off");
        assertThat(overridden.get("rotation").get("configured").asText()).isEqualTo("on");
        assertThat(overridden.get("rotation").get("causes").get(0).get("setting").asText())
                .isEqualTo("client attribute use.refresh.tokens=false");
        expectReuseDetected(spa.refresh(r0));
        JsonNode reused = event(realm, "refresh_token_reused");
        assertThat(reused.get("details").get("family_id").asText()).isEqualTo(Oidc.claims(r1).get("rg_fid").asText());
        assertThat(reused.get("details").get("generation").asText()).isEqualTo("0");
        assertThat(reused.get("details").get("latest_generation").asText()).isEqualTo("1");
        assertThat(reused.get("details").get("action").asText()).isEqualTo("revoke-family");

        Reply revoked = spa.refresh(r1);
        assertThat(revoked.status()).as("%s", revoked).isEqualTo(400);
        assertThat(revoked.text("error")).isEqualTo("invalid_grant");

        JsonNode rotation = policy(realm, "spa").get("rotation");
        assertThat(rotation.get("effective").asText()).isEqualTo("off");
        assertThat(rotation.get("configured").asText()).isEqualTo("on");
        assertThat(rotation.get("causes").get(0).get("setting").asText()).isEqualTo("client attribute use.refresh.tokens=false");
    }

    /** Tokens from before protection, without a successor: the session's newest is adopted and served, an older one refused. */
    @Test
    void useRefreshTokensOffStillRefusesAnOlderTokenFromBeforeProtection() {
        TestRealm realm = TestRealm.stock(server, "no-rt-adopt");
        Oidc spa = realm.spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        // Keycloak stamps the client session with each token's iat (seconds): r1 must be of a later second to be newer.
        Await.pastEpochSecond(Oidc.claims(r0).get("iat").asLong());
        String r1 = ok(spa.refresh(r0)).text("refresh_token");
        assertThat(Oidc.claims(r1).has("rg_fid")).as("issued before protection").isFalse();
        Switches.protect(realm, true);
        realm.clientAttributes("spa", Map.of("use.refresh.tokens", "false"));

        assertThat(ok(spa.refresh(r1)).json().has("refresh_token")).isFalse();
        ok(spa.refresh(r1));
        Reply older = spa.refresh(r0);
        assertThat(older.status()).as("%s", older).isEqualTo(400);
        assertThat(older.text("error")).isEqualTo("invalid_grant");
        assertThat(event(realm, "refresh_token_stale").get("clientId").asText()).isEqualTo("spa");
        ok(spa.refresh(r1));
    }

    @Test
    void useRefreshTokensOffUnderAlertOnlyServesTheReuserButAlerts() {
        TestRealm realm = TestRealm.guarded(server, "no-rt-alert", Map.of());
        realm.clientAttributes("spa", Map.of("refresh.guard.reuse.action", "alert-only"));
        Oidc spa = realm.spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        String r1 = ok(spa.refresh(r0)).text("refresh_token");
        realm.clientAttributes("spa", Map.of("use.refresh.tokens", "false"));

        Reply reuse = ok(spa.refresh(r0));
        assertThat(reuse.json().has("refresh_token")).isFalse();
        JsonNode alert = event(realm, "refresh_token_reused");
        assertThat(alert.get("details").get("action").asText()).isEqualTo("alert-only");
        ok(spa.refresh(r1));
    }

    @Test
    void suppressRotationOnAConfidentialClientIsHonouredButJudged() {
        TestRealm realm = TestRealm.guarded(server, "suppress-conf", Map.of());
        Oidc api = realm.oidc("api");
        String r0 = ok(api.password("alice", "alice")).text("refresh_token");
        String r1 = ok(api.refresh(r0)).text("refresh_token");
        suppressRotation(realm, "api");

        for (int i = 0; i < 2; i++) {
            Reply served = ok(api.refresh(r1));
            assertThat(served.json().has("refresh_token")).as("suppressed: %s", served).isFalse();
        }
        JsonNode overridden = rotationOverridden(realm, "api", "WARN");
        assertThat(overridden.get("rotation").get("effective").asText()).isEqualTo("off");
        assertThat(overridden.get("rotation").get("causes").get(0).get("setting").asText())
                .isEqualTo("client policy 'no-rotation' (executor suppress-refresh-token-rotation)");
        expectReuseDetected(api.refresh(r0));
        assertThat(event(realm, "refresh_token_reused").get("details").get("generation").asText()).isEqualTo("0");
        assertThat(api.refresh(r1).status()).as("the family is revoked").isEqualTo(400);

        JsonNode rotation = policy(realm, "api").get("rotation");
        assertThat(rotation.get("effective").asText()).isEqualTo("off");
        assertThat(rotation.get("causes").get(0).get("setting").asText())
                .isEqualTo("client policy 'no-rotation' (executor suppress-refresh-token-rotation)");
        JsonNode unaffected = policy(realm, "other").get("rotation");
        assertThat(unaffected.get("effective").asText()).as("the policy's condition does not match 'other'").isEqualTo("on");
        assertThat(unaffected.get("causes")).isEmpty();
    }

    @Test
    void suppressRotationOnAPublicClientWithoutDpopKeepsRotating() {
        TestRealm realm = TestRealm.guarded(server, "suppress-pub", Map.of());
        suppressRotation(realm, "spa");
        Oidc spa = realm.spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        Reply rotated = ok(spa.refresh(r0));
        String r1 = rotated.text("refresh_token");
        assertThat(r1).as("refresh-guard kept rotating: %s", rotated).isNotBlank().isNotEqualTo(r0);
        assertThat(Oidc.claims(r1).get("rg_gen").asInt()).isEqualTo(1);
        expectReuseDetected(spa.refresh(r0));
        assertThat(spa.refresh(r1).status()).as("revoke-family").isEqualTo(400);

        JsonNode rotation = policy(realm, "spa").get("rotation");
        assertThat(rotation.get("effective").asText()).isEqualTo("on");
        assertThat(rotation.get("causes").get(0).get("effect").asText()).contains("keeps rotating");
        ServerLog log = new ServerLog(server);
        Await.until(Duration.ofSeconds(30), "one ERROR line naming the client",
                () -> log.errors("realm '" + realm.name + "', client 'spa'", "keep rotating").size() == 1);
        // A second refresh of the same client logs nothing more.
        String r2 = ok(spa.password("bob", "bob")).text("refresh_token");
        ok(spa.refresh(r2));
        assertThat(log.errors("realm '" + realm.name + "', client 'spa'", "keep rotating")).hasSize(1);
        JsonNode overridden = rotationOverridden(realm, "spa", "INFO");
        assertThat(overridden.get("rotation").get("effective").asText()).isEqualTo("on");
        assertThat(overridden.get("rotation").get("causes").get(0).get("effect").asText()).contains("keeps rotating");
    }

    /**
     * The one alert line (at {@code level}) of a client whose rotation Keycloak's configuration overrides: waits for it,
     * then checks no second one follows.
     */
    private JsonNode rotationOverridden(TestRealm realm, String clientId, String level) {
        ServerLog log = new ServerLog(server);
        return Await.exactlyOne(Duration.ofSeconds(30), "one " + level + " rotation line for client " + clientId,
                () -> log.alerts(level).stream()
                        .filter(a -> "refresh_guard_rotation_overridden".equals(a.path("alert").asText()))
                        .filter(a -> realm.name.equals(a.path("realm").asText()) && clientId.equals(a.path("client_id").asText()))
                        .toList());
    }

    /**
     * Keycloak binds a public client's refresh token to the DPoP proof's key even when the client does not require
     * DPoP-bound tokens: such a token is sender-constrained, so the executor's suppression is honoured for it — and the
     * token without its key is refused by Keycloak.
     */
    @Test
    void suppressRotationIsHonouredForADpopBoundRefreshTokenOfAPublicClient() throws Exception {
        TestRealm realm = TestRealm.guarded(server, "suppress-dpop", Map.of());
        suppressRotation(realm, "spa");
        Oidc spa = realm.spa();
        DefaultDPoPProofFactory proofs = new DefaultDPoPProofFactory(new ECKeyGenerator(Curve.P_256).generate(), JWSAlgorithm.ES256);
        Http http = new Http();
        Reply login = ok(http.postForm(spa.tokenUrl(), Http.params("grant_type", "password", "username", "alice",
                "password", "alice", "scope", "openid", "client_id", "spa"), dpop(proofs, spa)));
        String r0 = login.text("refresh_token");
        assertThat(Oidc.claims(r0).path("cnf").path("jkt").asText()).as("a DPoP-bound refresh token").isNotEmpty();

        for (int i = 0; i < 2; i++) {
            Reply served = ok(http.postForm(spa.tokenUrl(), Http.params("grant_type", "refresh_token", "refresh_token", r0,
                    "client_id", "spa"), dpop(proofs, spa)));
            assertThat(served.json().has("refresh_token")).as("suppression honoured: %s", served).isFalse();
        }
        Reply withoutKey = spa.refresh(r0);
        assertThat(withoutKey.status()).as("the bound token without its key: %s", withoutKey).isEqualTo(400);
        assertThat(withoutKey.text("error") + " " + withoutKey.text("error_description")).isEqualTo("invalid_grant DPoP proof is missing");
        JsonNode families = realm.admin.ok("GET", "/" + realm.name + "/refresh-guard/families?user_id=" + realm.userIds.get("alice"), null).json();
        assertThat(families.get(0).get("generation").asInt()).as("nothing rotated").isZero();
        assertThat(families.get(0).get("state").asText()).isEqualTo("ACTIVE");
    }

    private static Map<String, String> dpop(DefaultDPoPProofFactory proofs, Oidc client) throws Exception {
        return Map.of("DPoP", proofs.createDPoPJWT("POST", URI.create(client.tokenUrl())).serialize());
    }

    /** A client role on the client, a profile with Keycloak's executor, a policy applying it to that role. */
    private static void suppressRotation(TestRealm realm, String clientId) {
        realm.admin.ok("POST", "/" + realm.name + "/clients/" + realm.clientUuids.get(clientId) + "/roles", Map.of("name", "no-rotation"));
        realm.admin.ok("PUT", "/" + realm.name + "/client-policies/profiles", Map.of("profiles", List.of(Map.of(
                "name", "no-rotation", "executors", List.of(Map.of("executor", "suppress-refresh-token-rotation", "configuration", Map.of()))))));
        realm.admin.ok("PUT", "/" + realm.name + "/client-policies/policies", Map.of("policies", List.of(Map.of(
                "name", "no-rotation", "enabled", true, "profiles", List.of("no-rotation"),
                "conditions", List.of(Map.of("condition", "client-roles", "configuration", Map.of("roles", List.of("no-rotation"))))))));
    }

    private static JsonNode policy(TestRealm realm, String clientId) {
        return realm.admin.ok("GET", "/" + realm.name + "/refresh-guard/policy?client_id=" + clientId, null).json();
    }
}
