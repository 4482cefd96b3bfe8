package dev.refreshguard.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.oauth2.sdk.dpop.DefaultDPoPProofFactory;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.Http;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Ledger;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.TestRealm;

/**
 * Exact lineage: the child family of an exchange belongs to exactly the family its subject access token was issued
 * from, whichever family of the client session that is, whatever the token's bearer spelling.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LineageIT {

    private static final String REFRESH_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:refresh_token";
    private static final String BACKEND_SECRET = "backend-secret-0123456789";
    private static final String PARTNER_SECRET = "partner-secret-0123456789";
    private static final Map<String, String> EXCHANGE_WITH_REFRESH = Map.of(
            "standard.token.exchange.enabled", "true",
            "standard.token.exchange.enableRefreshRequestedTokenType", "SAME_SESSION");

    private KeycloakServer server;
    private TestRealm realm;
    private Oidc spa;
    private Oidc backend;
    private Oidc partner;

    @BeforeAll
    void realm(KeycloakServer server) {
        this.server = server;
        realm = TestRealm.guarded(server, "lineage", Map.of());
        realm.addConfidentialClient("backend", BACKEND_SECRET, Map.of("attributes", EXCHANGE_WITH_REFRESH));
        realm.addConfidentialClient("partner", PARTNER_SECRET, Map.of("attributes", EXCHANGE_WITH_REFRESH));
        realm.addPublicClient("spa-lower");
        realm.clientAttributes("spa-lower", Map.of("token.response.type.bearer.lower-case", "true"));
        for (String subject : List.of("spa", "spa-lower")) {
            realm.addAudience(subject, "backend");
            realm.addAudience(subject, "partner");
        }
        realm.addAudience("backend", "partner");
        realm.addAudience("spa-lower", "api");
        realm.addAudience("backend", "api");
        realm.addAudience("partner", "api");
        spa = realm.spa();
        backend = realm.confidential("backend", BACKEND_SECRET);
        partner = realm.confidential("partner", PARTNER_SECRET);
    }

    @Test
    void twoFamiliesOfOneClientInOneLoginEachKeepTheirOwnChildren() {
        // Two authorization-code logins of spa in one browser: one SSO session, one client session, two families.
        Oidc.Browser browser = new Oidc.Browser();
        Reply first = code(browser);
        Reply second = code(browser);
        assertThat(first.text("session_state")).isEqualTo(second.text("session_state"));
        String firstFamily = familyOf(first.text("refresh_token"));
        String secondFamily = familyOf(second.text("refresh_token"));
        assertThat(firstFamily).isNotEqualTo(secondFamily);
        assertThat(ledger(firstFamily)).containsEntry("session_id", first.text("session_state"))
                .containsEntry("client_id", realm.clientUuids.get("spa"));
        assertThat(ledger(secondFamily)).containsEntry("session_id", first.text("session_state"))
                .containsEntry("client_id", realm.clientUuids.get("spa"));
        // Each access token names the family it was issued with.
        assertThat(Oidc.claims(first.text("access_token")).path("rg_fid").asText()).isEqualTo(firstFamily);
        assertThat(Oidc.claims(second.text("access_token")).path("rg_fid").asText()).isEqualTo(secondFamily);

        // The first family's access token, exchanged after the second family exists: its child is the first's.
        Reply firstChild = exchange(backend, first.text("access_token"));
        Reply secondChild = exchange(partner, second.text("access_token"));
        String firstChildId = familyOf(firstChild.text("refresh_token"));
        String secondChildId = familyOf(secondChild.text("refresh_token"));
        assertThat(ledger(firstChildId)).containsEntry("parent_id", firstFamily);
        assertThat(ledger(secondChildId)).containsEntry("parent_id", secondFamily);
        assertThat(Oidc.claims(firstChild.text("access_token")).path("rg_fid").asText()).isEqualTo(firstChildId);

        // A refreshed access token still names its family.
        Reply rotated = spa.refresh(first.text("refresh_token"));
        assertThat(rotated.status()).as("refresh: %s", rotated).isEqualTo(200);
        assertThat(Oidc.claims(rotated.text("access_token")).path("rg_fid").asText()).isEqualTo(firstFamily);

        // Reuse in the first family revokes it and its child, and nothing of the second.
        Oidc.expectReuseDetected(spa.refresh(first.text("refresh_token")));
        assertThat(ledger(firstFamily)).containsEntry("state", "REVOKED").containsEntry("revoked_reason", "reuse");
        assertThat(ledger(firstChildId)).containsEntry("state", "REVOKED").containsEntry("revoked_reason", "reuse");
        assertThat(ledger(secondFamily)).containsEntry("state", "ACTIVE");
        assertThat(ledger(secondChildId)).containsEntry("state", "ACTIVE");
        Oidc.expectFamilyRevokedAfterReuse(backend.refresh(firstChild.text("refresh_token")));
        assertThat(introspect(firstChild.text("access_token")).path("active").asBoolean()).isFalse();
        // The second family's child lives in the partner's own client session: it keeps working.
        Reply secondChildRefresh = partner.refresh(secondChild.text("refresh_token"));
        assertThat(secondChildRefresh.status()).as("second child: %s", secondChildRefresh).isEqualTo(200);
        assertThat(familyOf(secondChildRefresh.text("refresh_token"))).isEqualTo(secondChildId);
        assertThat(introspect(secondChildRefresh.text("access_token")).path("active").asBoolean()).isTrue();
    }

    @Test
    void aLowerCaseBearerSubjectTokenIsLinkedAndRevokedWithItsParent() {
        Oidc lower = realm.oidc("spa-lower");
        Reply login = lower.password("alice", "alice");
        assertThat(login.status()).as("login: %s", login).isEqualTo(200);
        assertThat(login.text("token_type")).isEqualTo("bearer");
        assertThat(Oidc.claims(login.text("access_token")).path("typ").asText()).isEqualTo("bearer");
        String parentId = familyOf(login.text("refresh_token"));

        Reply child = exchange(backend, login.text("access_token"));
        String childId = familyOf(child.text("refresh_token"));
        assertThat(ledger(childId)).containsEntry("parent_id", parentId);

        assertThat(lower.refresh(login.text("refresh_token")).status()).isEqualTo(200);
        Oidc.expectReuseDetected(lower.refresh(login.text("refresh_token")));
        assertThat(ledger(childId)).containsEntry("state", "REVOKED").containsEntry("revoked_reason", "reuse");
        Oidc.expectFamilyRevokedAfterReuse(backend.refresh(child.text("refresh_token")));
        assertThat(introspect(child.text("access_token")).path("active").asBoolean()).isFalse();
    }

    @Test
    void anAccessTokenThatNamesNoFamilyFallsBackToTheNewestFamilyOfItsClientSession() {
        Reply login = spa.password("alice", "alice");
        assertThat(login.status()).isEqualTo(200);
        Reply child = exchange(backend, login.text("access_token"));
        String childId = familyOf(child.text("refresh_token"));
        // An access-token-only exchange issues no refresh token beside it, so its access token names no family.
        Reply accessOnly = backend.exchange(login.text("access_token"));
        assertThat(accessOnly.status()).as("access-only exchange: %s", accessOnly).isEqualTo(200);
        assertThat(accessOnly.text("refresh_token")).isNull();
        assertThat(Oidc.claims(accessOnly.text("access_token")).has("rg_fid")).isFalse();

        Reply grandchild = exchange(partner, accessOnly.text("access_token"));
        assertThat(ledger(familyOf(grandchild.text("refresh_token")))).containsEntry("parent_id", childId);
    }

    @Test
    void aSubjectTokenNamingAFamilyTheLedgerNoLongerHoldsIsRefused() throws SQLException {
        Reply login = spa.password("alice", "alice");
        assertThat(login.status()).isEqualTo(200);
        String familyId = familyOf(login.text("refresh_token"));
        // As the purge task or a model removal would leave it: the row is gone, the access token still valid.
        assertThat(Ledger.of(server).update("DELETE FROM RG_FAMILY WHERE id = ?", familyId)).isEqualTo(1);
        assertThat(spa.userinfo(login.text("access_token")).status()).isEqualTo(200);

        Reply refused = backend.exchange(login.text("access_token"), "requested_token_type", REFRESH_TOKEN_TYPE);
        assertThat(refused.status()).as("exchange: %s", refused).isEqualTo(400);
        assertThat(refused.text("error")).isEqualTo("invalid_request");
        assertThat(refused.text("error_description"))
                .isEqualTo("Invalid subject_token: its refresh token family is not known to this server");
        JsonNode event = realm.admin.events(realm.name, "TOKEN_EXCHANGE_ERROR", "refresh_token_family_revoked").stream()
                .filter(e -> familyId.equals(e.path("details").path("family_id").asText()))
                .findFirst().orElseThrow(() -> new AssertionError("no TOKEN_EXCHANGE_ERROR event for family " + familyId));
        assertThat(event.path("userId").asText()).isEqualTo(realm.userIds.get("alice"));
        assertThat(query("SELECT id FROM RG_FAMILY WHERE parent_id = ?", familyId)).isEmpty();
    }

    /** Pinned: Keycloak 26.7.3 itself refuses another client's exchange of a DPoP-bound subject token. */
    @Test
    void anotherClientCannotExchangeADpopBoundSubjectToken() throws Exception {
        DefaultDPoPProofFactory proofs = new DefaultDPoPProofFactory(new ECKeyGenerator(Curve.P_256).generate(), JWSAlgorithm.ES256);
        Map<String, String> form = new LinkedHashMap<>(Http.params("grant_type", "password", "username", "alice",
                "password", "alice", "scope", "openid", "client_id", "spa"));
        Reply login = new Http().postForm(spa.tokenUrl(), form,
                Map.of("DPoP", proofs.createDPoPJWT("POST", URI.create(spa.tokenUrl())).serialize()));
        assertThat(login.status()).as("DPoP login: %s", login).isEqualTo(200);
        assertThat(login.text("token_type")).isEqualTo("DPoP");
        JsonNode claims = Oidc.claims(login.text("access_token"));
        assertThat(claims.path("cnf").path("jkt").asText()).isNotEmpty();
        String parentId = familyOf(login.text("refresh_token"));

        Reply refused = backend.exchange(login.text("access_token"), "requested_token_type", REFRESH_TOKEN_TYPE);
        assertThat(refused.status()).as("exchange: %s", refused).isEqualTo(400);
        assertThat(refused.text("error")).isEqualTo("invalid_request");
        assertThat(refused.text("error_description"))
                .isEqualTo("Sender-constrained token exchange rejected as the token was not issued for the requesting client");
        JsonNode event = realm.admin.events(realm.name, "TOKEN_EXCHANGE_ERROR", "invalid_request").stream()
                .filter(e -> "backend".equals(e.path("clientId").asText())
                        && e.path("details").path("reason").asText().startsWith("Sender-constrained token exchange rejected"))
                .findFirst().orElseThrow(() -> new AssertionError("no TOKEN_EXCHANGE_ERROR event for the DPoP refusal"));
        assertThat(event.path("error").asText()).isEqualTo("invalid_request");
        assertThat(query("SELECT id FROM RG_FAMILY WHERE parent_id = ?", parentId)).isEmpty();
        assertThat(ledger(parentId)).containsEntry("state", "ACTIVE");
    }

    private Reply code(Oidc.Browser browser) {
        Reply login = spa.authorizationCode(browser, "alice", "alice", TestRealm.REDIRECT);
        assertThat(login.status()).as("code login: %s", login).isEqualTo(200);
        return login;
    }

    private static Reply exchange(Oidc client, String subjectToken) {
        Reply exchanged = client.exchange(subjectToken, "requested_token_type", REFRESH_TOKEN_TYPE);
        assertThat(exchanged.status()).as("exchange by %s: %s", client.clientId(), exchanged).isEqualTo(200);
        return exchanged;
    }

    private static String familyOf(String refreshToken) {
        return Oidc.claims(refreshToken).get("rg_fid").asText();
    }

    private JsonNode introspect(String accessToken) {
        Reply reply = realm.oidc("api").introspect(accessToken);
        assertThat(reply.status()).isEqualTo(200);
        return reply.json();
    }

    /** The family's stored row, every column (the ledger as the server left it, not what it answers). */
    private Map<String, Object> ledger(String familyId) {
        return Ledger.of(server).family(familyId);
    }

    private List<Map<String, Object>> query(String sql, String parameter) {
        return Ledger.of(server).rows(sql, parameter);
    }
}
