package dev.refreshguard.alert;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.DpopKey;
import dev.refreshguard.harness.FamilyEvents;
import dev.refreshguard.harness.FromAddress;
import dev.refreshguard.harness.Http;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.ServerLog;
import dev.refreshguard.harness.TestRealm;

/**
 * Issue 26, points 1 and 2: every reuse alert carries its evidence and a verdict, in the event, the JSON line and the
 * counter; the verdict weakens the action only where a client chose so for likely-retry; a DPoP-bound token presented
 * with another key is a likely-theft alert with the family's action.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VerdictIT {

    private static final Map<String, String> APP = Map.of("User-Agent", "RG-VerdictIT-App/3.1 (Android 14)");
    private static final Map<String, String> THIEF = Map.of("User-Agent", "curl/8.5.0");

    private KeycloakServer server;
    private ServerLog log;

    @BeforeAll
    void server(KeycloakServer server) {
        this.server = server;
        this.log = new ServerLog(server.logFile());
    }

    @Test
    void theSameDeviceRetryingAtOnceIsLikelyRetryAndTheDefaultActionStaysStrict() {
        TestRealm realm = TestRealm.guarded(server, "verdict-retry", Map.of());
        Oidc spa = realm.spa();
        String r0 = spa.password("alice", "alice").text("refresh_token");
        String familyId = Oidc.claims(r0).get("rg_fid").asText();
        String r1 = spa.refresh(r0, APP).text("refresh_token");
        Oidc.expectReuseDetected(spa.refresh(r0, APP));

        JsonNode details = FamilyEvents.only(realm.admin, realm.name, AlertVocabulary.ERROR_REUSED, familyId).get("details");
        assertThat(details.get("verdict").asText()).isEqualTo("likely-retry");
        assertThat(details.get("signal").asText()).isEqualTo("rotated-token");
        assertThat(details.get("same_ip").asText()).isEqualTo("true");
        assertThat(details.get("same_user_agent").asText()).isEqualTo("true");
        assertThat(details.get("same_dpop_key").asText()).isEqualTo("unknown");
        assertThat(details.get("same_session").asText()).isEqualTo("true");
        assertThat(details.get("seconds_since_rotation").asLong()).isBetween(0L, 10L);
        assertThat(details.get("incident_count").asText()).isEqualTo("1");
        // Strict by default: the verdict did not weaken revoke-family.
        assertThat(details.get("action").asText()).isEqualTo("revoke-family");
        assertThat(details.get("sessions_revoked").asText()).isEqualTo("1");
        Oidc.expectFamilyRevokedAfterReuse(spa.refresh(r1, APP));

        JsonNode line = log.awaitAlertOfFamily(familyId);
        assertThat(line.get("verdict").asText()).isEqualTo("likely-retry");
        assertThat(line.get("same_ip").asBoolean()).isTrue();
        assertThat(line.get("same_user_agent").asBoolean()).isTrue();
        assertThat(line.get("same_dpop_key").isNull()).isTrue();
        assertThat(line.get("incident_count").asInt()).isEqualTo(1);

        Map<String, Double> scrape = new Prometheus(server).scrape();
        assertThat(Prometheus.value(scrape, "refresh_guard_reuse_total",
                Map.of("realm", realm.name, "client", "spa", "action", "revoke-family", "verdict", "likely-retry"))).isEqualTo(1.0);
    }

    @Test
    void aClientMayRefuseALikelyRetryWithoutRevokingButATheftStillRevokes() {
        TestRealm realm = TestRealm.guarded(server, "verdict-refuse", Map.of());
        realm.clientAttributes("spa", Map.of("refresh.guard.reuse.action.likely-retry", "refuse"));
        Oidc spa = realm.spa();
        String r0 = spa.password("alice", "alice").text("refresh_token");
        String familyId = Oidc.claims(r0).get("rg_fid").asText();
        String r1 = spa.refresh(r0, APP).text("refresh_token");

        // The app lost the answer and retried with r0: refused, nothing revoked, r1 keeps working.
        Oidc.expectInvalidGrant(spa.refresh(r0, APP), "Refresh token reuse detected: this token was already used; use its successor");
        JsonNode retry = FamilyEvents.only(realm.admin, realm.name, AlertVocabulary.ERROR_REUSED, familyId).get("details");
        assertThat(retry.get("verdict").asText()).isEqualTo("likely-retry");
        assertThat(retry.get("action").asText()).isEqualTo("refuse");
        assertThat(retry.get("sessions_revoked").asText()).isEqualTo("0");
        Reply rotated = spa.refresh(r1, APP);
        assertThat(rotated.status()).as("%s", rotated).isEqualTo(200);
        String r2 = rotated.text("refresh_token");

        // r1 again, from another network and another client fingerprint: likely-theft, and the strict action.
        long since = System.currentTimeMillis();
        Map<String, String> form = new HashMap<>(Map.of("grant_type", "refresh_token", "refresh_token", r1, "client_id", "spa"));
        Oidc.expectReuseDetected(FromAddress.postForm("127.0.0.2", spa.tokenUrl(), form, THIEF));
        JsonNode theft = FamilyEvents.await(realm.admin, realm.name, AlertVocabulary.ERROR_REUSED, familyId, since);
        assertThat(theft.get("ipAddress").asText()).isEqualTo("127.0.0.2");
        JsonNode details = theft.get("details");
        assertThat(details.get("verdict").asText()).isEqualTo("likely-theft");
        assertThat(details.get("same_ip").asText()).isEqualTo("false");
        assertThat(details.get("same_user_agent").asText()).isEqualTo("false");
        assertThat(details.get("first_use_ip").asText()).isIn("127.0.0.1", "0:0:0:0:0:0:0:1", "::1");
        assertThat(details.get("action").asText()).isEqualTo("revoke-family");
        assertThat(details.get("incident_count").asText()).isEqualTo("2");
        Oidc.expectFamilyRevokedAfterReuse(spa.refresh(r2, APP));
    }

    @Test
    void theLikelyRetryActionIsValidatedAndShownOnThePolicyEndpoint() {
        TestRealm realm = TestRealm.guarded(server, "verdict-policy", Map.of("refresh.guard.reuse.retry.seconds", "30"));
        Reply refused = realm.admin.setClientAttributes(realm.name, realm.clientUuids.get("spa"),
                Map.of("refresh.guard.reuse.action.likely-retry", "forgive"));
        assertThat(refused.status()).as("%s", refused).isEqualTo(400);
        assertThat(refused.text("error_description")).contains("refresh.guard.reuse.action.likely-retry accepts one of"
                + " revoke-family, revoke-user-session, revoke-all-sessions, alert-only, refuse");
        Reply notAnAction = realm.admin.setClientAttributes(realm.name, realm.clientUuids.get("spa"),
                Map.of("refresh.guard.reuse.action", "refuse"));
        assertThat(notAnAction.status()).as("%s", notAnAction).isEqualTo(400);
        assertThat(notAnAction.text("error_description")).contains("refresh.guard.reuse.action accepts one of");

        realm.clientAttributes("spa", Map.of("refresh.guard.reuse.action.likely-retry", "alert-only"));
        JsonNode attributes = realm.admin.ok("GET", "/" + realm.name + "/refresh-guard/policy?client_id=spa", null).json()
                .get("attributes");
        assertThat(attributes.get("refresh.guard.reuse.action.likely-retry").get("value").asText()).isEqualTo("alert-only");
        assertThat(attributes.get("refresh.guard.reuse.action.likely-retry").get("source").asText()).isEqualTo("client");
        assertThat(attributes.get("refresh.guard.reuse.retry.seconds").get("value").asText()).isEqualTo("30");
        assertThat(attributes.get("refresh.guard.reuse.retry.seconds").get("source").asText()).isEqualTo("realm");
        assertThat(attributes.get("refresh.guard.reuse.retry.seconds").get("valid").asBoolean()).isTrue();
    }

    @Test
    void aDpopBoundTokenPresentedWithAnotherKeyIsLikelyTheftWithTheFamilysAction() {
        TestRealm realm = TestRealm.guarded(server, "verdict-dpop", Map.of());
        realm.clientAttributes("spa", Map.of("dpop.bound.access.tokens", "true"));
        Oidc spa = realm.spa();
        DpopKey owner = new DpopKey();
        DpopKey thief = new DpopKey();
        Http http = new Http();
        Reply login = http.postForm(spa.tokenUrl(), Map.of("grant_type", "password", "client_id", "spa", "username", "alice",
                "password", "alice", "scope", "openid"), Map.of("DPoP", owner.proof(spa.tokenUrl())));
        assertThat(login.status()).as("%s", login).isEqualTo(200);
        String r0 = login.text("refresh_token");
        String familyId = Oidc.claims(r0).get("rg_fid").asText();
        assertThat(Oidc.claims(r0).path("cnf").path("jkt").asText()).isEqualTo(owner.thumbprint());
        Reply rotated = refresh(http, spa, r0, owner);
        assertThat(rotated.status()).as("%s", rotated).isEqualTo(200);
        String r1 = rotated.text("refresh_token");

        // The newest token, with the thief's key: Keycloak refuses it; refresh-guard raises the alert and revokes.
        Reply stolen = refresh(http, spa, r1, thief);
        assertThat(stolen.status()).as("%s", stolen).isEqualTo(400);
        assertThat(stolen.text("error")).isEqualTo("invalid_grant");
        JsonNode event = FamilyEvents.only(realm.admin, realm.name, AlertVocabulary.ERROR_REUSED, familyId);
        assertThat(event.get("userId").asText()).isEqualTo(realm.userIds.get("alice"));
        JsonNode details = event.get("details");
        assertThat(details.get("verdict").asText()).isEqualTo("likely-theft");
        assertThat(details.get("signal").asText()).isEqualTo("dpop-key");
        assertThat(details.get("same_dpop_key").asText()).isEqualTo("false");
        assertThat(details.get("generation").asText()).isEqualTo("1");
        assertThat(details.get("latest_generation").asText()).isEqualTo("1");
        assertThat(details.get("action").asText()).isEqualTo("revoke-family");
        assertThat(details.get("sessions_revoked").asText()).isEqualTo("1");
        JsonNode line = log.awaitAlertOfFamily(familyId);
        assertThat(line.get("verdict").asText()).isEqualTo("likely-theft");
        assertThat(line.get("signal").asText()).isEqualTo("dpop-key");

        // The owner's own key no longer helps: the family is revoked.
        Reply after = refresh(http, spa, r1, owner);
        assertThat(after.status()).as("%s", after).isEqualTo(400);
        assertThat(after.text("error")).isEqualTo("invalid_grant");
        FamilyEvents.only(realm.admin, realm.name, AlertVocabulary.ERROR_FAMILY_REVOKED, familyId);
    }

    @Test
    void aForgedTokenWithAnotherKeyRaisesNothing() {
        TestRealm realm = TestRealm.guarded(server, "verdict-forged", Map.of());
        realm.clientAttributes("spa", Map.of("dpop.bound.access.tokens", "true"));
        Oidc spa = realm.spa();
        DpopKey owner = new DpopKey();
        Http http = new Http();
        Reply login = http.postForm(spa.tokenUrl(), Map.of("grant_type", "password", "client_id", "spa", "username", "alice",
                "password", "alice", "scope", "openid"), Map.of("DPoP", owner.proof(spa.tokenUrl())));
        String r0 = login.text("refresh_token");
        // Claims edited (another generation), signature kept: Keycloak refuses it before any DPoP check.
        String forged = dev.refreshguard.harness.Jwt.editPayload(r0, p -> p.put("rg_gen", 7));
        Reply reply = refresh(http, spa, forged, new DpopKey());
        assertThat(reply.status()).as("%s", reply).isEqualTo(400);
        assertThat(refresh(http, spa, r0, owner).status()).as("the family is untouched").isEqualTo(200);
        assertThat(realm.admin.events(realm.name, "REFRESH_TOKEN_ERROR", AlertVocabulary.ERROR_REUSED)).isEmpty();
    }

    private static Reply refresh(Http http, Oidc spa, String token, DpopKey key) {
        return http.postForm(spa.tokenUrl(), Map.of("grant_type", "refresh_token", "client_id", "spa", "refresh_token", token),
                Map.of("DPoP", key.proof(spa.tokenUrl())));
    }
}
