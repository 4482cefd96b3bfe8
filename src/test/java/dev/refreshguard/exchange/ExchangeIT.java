package dev.refreshguard.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.Ledger;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.TestRealm;

/**
 * Standard token exchange (v2) in a protected realm: a refresh token minted by exchange starts a child family of
 * the subject token's family, under the requesting client's policy, and dies with its ancestors.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ExchangeIT {

    private static final String REFRESH_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:refresh_token";
    private static final String ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";
    private static final String BACKEND_SECRET = "backend-secret-0123456789";
    private static final String PARTNER_SECRET = "partner-secret-0123456789";
    /** What Keycloak 26 needs on a client for standard token exchange that may return refresh tokens. */
    private static final Map<String, String> EXCHANGE_WITH_REFRESH = Map.of(
            "standard.token.exchange.enabled", "true",
            "standard.token.exchange.enableRefreshRequestedTokenType", "SAME_SESSION");
    private static final int PARTNER_IDLE = 45;
    private static final int SHORT_MAX = 4;

    private KeycloakServer server;
    private TestRealm guarded;
    private TestRealm stock;
    private Oidc spa;
    private Oidc spaShort;
    private Oidc backend;
    private Oidc partner;

    @BeforeAll
    void realms(KeycloakServer server) {
        this.server = server;
        guarded = TestRealm.guarded(server, "exchange", Map.of());
        stock = TestRealm.stock(server, "exchange-stock");
        for (TestRealm realm : List.of(guarded, stock)) {
            // The backend's own policy is left at the defaults: grace 0, revoke-family.
            realm.addConfidentialClient("backend", BACKEND_SECRET, Map.of("attributes", EXCHANGE_WITH_REFRESH));
            // Standard exchange requires the requesting client to be in the subject token's audience.
            audience(realm, "spa", "backend");
        }
        Map<String, String> partnerPolicy = new HashMap<>(EXCHANGE_WITH_REFRESH);
        partnerPolicy.put("refresh.guard.idle.seconds", String.valueOf(PARTNER_IDLE));
        partnerPolicy.put("refresh.guard.grace.seconds", "30");
        guarded.addConfidentialClient("partner", PARTNER_SECRET, Map.of("attributes", partnerPolicy));
        audience(guarded, "spa", "partner");
        audience(guarded, "backend", "partner");
        // The resource server "api" introspects the exchanged tokens (introspection requires the audience).
        audience(guarded, "backend", "api");
        audience(guarded, "partner", "api");
        // A family max shorter than its access tokens' lifespan: the access token outlives its family.
        guarded.addPublicClient("spa-short");
        guarded.clientAttributes("spa-short", Map.of("refresh.guard.max.seconds", String.valueOf(SHORT_MAX),
                "access.token.lifespan", "600"));
        audience(guarded, "spa-short", "backend");

        spa = guarded.spa();
        spaShort = guarded.oidc("spa-short");
        backend = guarded.confidential("backend", BACKEND_SECRET);
        partner = guarded.confidential("partner", PARTNER_SECRET);
    }

    @Test
    void anExchangedRefreshTokenStartsAChildFamilyOfTheSubjectTokensFamily() {
        Reply login = login(spa);
        String parentId = familyOf(login.text("refresh_token"));

        Reply exchanged = backend.exchange(login.text("access_token"), "requested_token_type", REFRESH_TOKEN_TYPE);
        assertThat(exchanged.status()).as("exchange: %s", exchanged).isEqualTo(200);
        assertThat(exchanged.text("issued_token_type")).isEqualTo(REFRESH_TOKEN_TYPE);
        JsonNode child = Oidc.claims(exchanged.text("refresh_token"));
        assertThat(child.get("azp").asText()).isEqualTo("backend");
        assertThat(child.get("sid").asText()).isEqualTo(Oidc.claims(login.text("access_token")).get("sid").asText());
        assertThat(child.get("rg_fid").asText()).isNotEqualTo(parentId);
        assertThat(child.get("rg_gen").asInt()).isZero();

        Map<String, Object> row = ledger(child.get("rg_fid").asText());
        assertThat(row).containsEntry("parent_id", parentId)
                .containsEntry("client_id", guarded.clientUuids.get("backend"))
                .containsEntry("generation", 0)
                .containsEntry("state", "ACTIVE");
        assertThat(ledger(parentId)).containsEntry("parent_id", "");

        // The child rotates like any family.
        Reply refreshed = backend.refresh(exchanged.text("refresh_token"));
        assertThat(refreshed.status()).as("child refresh: %s", refreshed).isEqualTo(200);
        assertThat(Oidc.claims(refreshed.text("refresh_token")).get("rg_fid").asText()).isEqualTo(child.get("rg_fid").asText());
        assertThat(Oidc.claims(refreshed.text("refresh_token")).get("rg_gen").asInt()).isEqualTo(1);
        Oidc.expectReuseDetected(backend.refresh(exchanged.text("refresh_token")));
    }

    @Test
    void theChildLivesByTheRequestingClientsPolicy() {
        Reply login = login(spa);
        assertThat(login.json().get("refresh_expires_in").asInt()).isGreaterThan(PARTNER_IDLE);

        Reply exchanged = partner.exchange(login.text("access_token"), "requested_token_type", REFRESH_TOKEN_TYPE);
        assertThat(exchanged.status()).as("exchange: %s", exchanged).isEqualTo(200);
        // The partner's idle limit, not the subject client's lifetimes.
        assertThat(exchanged.json().get("refresh_expires_in").asInt()).isBetween(1, PARTNER_IDLE);
        JsonNode claims = Oidc.claims(exchanged.text("refresh_token"));
        assertThat(claims.get("exp").asLong() - claims.get("iat").asLong()).isEqualTo(PARTNER_IDLE);

        // The partner's grace window: presenting the same child token twice returns the same successor.
        Reply first = partner.refresh(exchanged.text("refresh_token"));
        Reply replay = partner.refresh(exchanged.text("refresh_token"));
        assertThat(first.status()).as("first refresh: %s", first).isEqualTo(200);
        assertThat(replay.status()).as("grace replay: %s", replay).isEqualTo(200);
        assertThat(replay.text("refresh_token")).isEqualTo(first.text("refresh_token"));

        // Under the subject client's own policy (grace 0) the same replay is reuse.
        Reply spaFirst = spa.refresh(login.text("refresh_token"));
        assertThat(spaFirst.status()).isEqualTo(200);
        Oidc.expectReuseDetected(spa.refresh(login.text("refresh_token")));
    }

    @Test
    void reuseInTheParentFamilyRevokesTheChildAndItsDescendants() {
        Lineage lineage = lineage();
        Reply login = lineage.login();
        Reply child = lineage.child();
        Reply grandchild = lineage.grandchild();
        // An access token only, exchanged by a client that holds a child family: it lives in the child's session.
        Reply accessOnly = backend.exchange(login.text("access_token"));
        assertThat(accessOnly.status()).isEqualTo(200);
        assertThat(introspect(accessOnly.text("access_token")).get("active").asBoolean()).isTrue();
        assertThat(introspect(child.text("access_token")).get("active").asBoolean()).isTrue();
        assertThat(introspect(grandchild.text("access_token")).get("active").asBoolean()).isTrue();

        assertThat(spa.refresh(login.text("refresh_token")).status()).isEqualTo(200);
        Oidc.expectReuseDetected(spa.refresh(login.text("refresh_token")));

        // the child family was revoked with its parent, by the parent's reuse
        Oidc.expectFamilyRevokedAfterReuse(backend.refresh(child.text("refresh_token")));
        assertThat(event("REFRESH_TOKEN_ERROR", "refresh_token_family_revoked", lineage.childId()).path("clientId").asText())
                .isEqualTo("backend");
        assertThat(introspect(child.text("access_token")).get("active").asBoolean()).isFalse();
        assertThat(introspect(accessOnly.text("access_token")).get("active").asBoolean()).isFalse();
        assertThat(partner.refresh(grandchild.text("refresh_token")).status()).isEqualTo(400);
        assertThat(event("REFRESH_TOKEN_ERROR", "refresh_token_family_revoked", lineage.grandchildId())).isNotNull();
        assertThat(introspect(grandchild.text("access_token")).get("active").asBoolean()).isFalse();

        for (String id : List.of(lineage.parentId(), lineage.childId(), lineage.grandchildId())) {
            assertThat(ledger(id)).as("family %s", id).containsEntry("state", "REVOKED").containsEntry("revoked_reason", "reuse");
        }
    }

    @Test
    void reuseInsideTheChildRevokesTheChildAndItsDescendantsButNotTheParent() {
        Lineage lineage = lineage();
        Reply login = lineage.login();
        Reply child = lineage.child();
        Reply grandchild = lineage.grandchild();
        String parentId = lineage.parentId();

        Reply rotated = backend.refresh(child.text("refresh_token"));
        assertThat(rotated.status()).isEqualTo(200);
        Oidc.expectReuseDetected(backend.refresh(child.text("refresh_token")));
        assertThat(event("REFRESH_TOKEN_ERROR", "refresh_token_reused", lineage.childId()).path("details").path("action").asText())
                .isEqualTo("revoke-family");

        Oidc.expectFamilyRevokedAfterReuse(backend.refresh(rotated.text("refresh_token")));
        Oidc.expectFamilyRevokedAfterReuse(partner.refresh(grandchild.text("refresh_token")));
        assertThat(introspect(rotated.text("access_token")).get("active").asBoolean()).isFalse();
        assertThat(ledger(lineage.childId())).containsEntry("state", "REVOKED");
        assertThat(ledger(lineage.grandchildId())).containsEntry("state", "REVOKED");

        // The parent family and its client keep working.
        assertThat(ledger(parentId)).containsEntry("state", "ACTIVE");
        Reply spaRefresh = spa.refresh(login.text("refresh_token"));
        assertThat(spaRefresh.status()).as("parent refresh: %s", spaRefresh).isEqualTo(200);
        assertThat(spa.refresh(spaRefresh.text("refresh_token")).status()).isEqualTo(200);
        assertThat(spa.userinfo(spaRefresh.text("access_token")).status()).isEqualTo(200);
    }

    @Test
    void aSubjectTokenOfARevokedFamilyIsRefused() {
        Reply login = login(spa);
        String parentId = familyOf(login.text("refresh_token"));
        Reply refreshed = spa.refresh(login.text("refresh_token"));
        assertThat(refreshed.status()).isEqualTo(200);
        Oidc.expectReuseDetected(spa.refresh(login.text("refresh_token")));

        for (String type : List.of(REFRESH_TOKEN_TYPE, ACCESS_TOKEN_TYPE)) {
            Reply refused = backend.exchange(refreshed.text("access_token"), "requested_token_type", type);
            assertThat(refused.status()).as("exchange for %s: %s", type, refused).isEqualTo(400);
            assertThat(refused.text("error")).isEqualTo("invalid_request");
            assertThat(refused.text("error_description")).isEqualTo("Invalid subject_token: its refresh token family is revoked");
        }
        JsonNode event = event("TOKEN_EXCHANGE_ERROR", "refresh_token_family_revoked", parentId);
        assertThat(event.path("clientId").asText()).isEqualTo("backend");
        assertThat(event.path("userId").asText()).isEqualTo(guarded.userIds.get("alice"));
        assertThat(event.path("details").path("subject_token_client_id").asText()).isEqualTo("spa");
        assertThat(childrenOf(parentId)).isEmpty();
    }

    @Test
    void aSubjectTokenOfAnExpiredFamilyIsRefused() {
        Reply login = login(spaShort);
        String parentId = familyOf(login.text("refresh_token"));
        long familyStart = Oidc.claims(login.text("refresh_token")).get("rg_fst").asLong();
        Reply whileAlive = backend.exchange(login.text("access_token"), "requested_token_type", ACCESS_TOKEN_TYPE);
        assertThat(whileAlive.status()).as("exchange within the family max: %s", whileAlive).isEqualTo(200);

        Await.pastEpochSecond(familyStart + SHORT_MAX);
        assertThat(spaShort.userinfo(login.text("access_token")).status()).as("access token still valid").isEqualTo(200);
        Reply refused = backend.exchange(login.text("access_token"), "requested_token_type", REFRESH_TOKEN_TYPE);
        assertThat(refused.status()).as("exchange past the family max: %s", refused).isEqualTo(400);
        assertThat(refused.text("error")).isEqualTo("invalid_request");
        assertThat(refused.text("error_description")).isEqualTo("Invalid subject_token: its refresh token family has expired");
        assertThat(event("TOKEN_EXCHANGE_ERROR", "refresh_token_family_revoked", parentId).path("clientId").asText())
                .isEqualTo("backend");
        assertThat(childrenOf(parentId)).isEmpty();
    }

    @Test
    void anExchangeRacingTheParentsRevocationNeverLeavesALiveChild() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 8; round++) {
                Reply login = login(spa);
                String parentId = familyOf(login.text("refresh_token"));
                Reply refreshed = spa.refresh(login.text("refresh_token"));
                assertThat(refreshed.status()).isEqualTo(200);
                CountDownLatch start = new CountDownLatch(1);
                Future<Reply> reuse = pool.submit(() -> {
                    start.await();
                    return spa.refresh(login.text("refresh_token"));
                });
                Future<Reply> exchange = pool.submit(() -> {
                    start.await();
                    return backend.exchange(refreshed.text("access_token"), "requested_token_type", REFRESH_TOKEN_TYPE);
                });
                start.countDown();
                Oidc.expectReuseDetected(reuse.get(60, TimeUnit.SECONDS));
                Reply exchanged = exchange.get(60, TimeUnit.SECONDS);
                assertThat(exchanged.status()).as("exchange, round %d: %s", round, exchanged).isIn(200, 400);
                assertThat(ledger(parentId)).containsEntry("state", "REVOKED");
                for (Map<String, Object> child : childrenOf(parentId)) {
                    assertThat(ledger((String) child.get("id"))).as("child, round %d", round).containsEntry("state", "REVOKED");
                }
                if (exchanged.status() == 200) {
                    Oidc.expectFamilyRevokedAfterReuse(backend.refresh(exchanged.text("refresh_token")));
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void anAccessTokenOnlyExchangeWorksAndMintsNoFamily() {
        Reply login = login(spa);
        String parentId = familyOf(login.text("refresh_token"));
        Reply exchanged = backend.exchange(login.text("access_token"));
        assertThat(exchanged.status()).as("exchange: %s", exchanged).isEqualTo(200);
        assertThat(exchanged.text("issued_token_type")).isEqualTo(ACCESS_TOKEN_TYPE);
        assertThat(exchanged.text("refresh_token")).isNull();
        assertThat(introspect(exchanged.text("access_token")).get("active").asBoolean()).isTrue();
        assertThat(childrenOf(parentId)).isEmpty();

        // The backend holds no session of its own in this login, so Keycloak issues the token on a transient
        // session: no family or session reaches it, and revoking the family leaves it valid until it expires.
        assertThat(spa.refresh(login.text("refresh_token")).status()).isEqualTo(200);
        Oidc.expectReuseDetected(spa.refresh(login.text("refresh_token")));
        assertThat(introspect(exchanged.text("access_token")).get("active").asBoolean()).isTrue();
    }

    @Test
    void aStockRealmExchangesAsStandardAndMintsNoFamily() {
        Oidc stockBackend = stock.confidential("backend", BACKEND_SECRET);
        Reply stockLogin = login(stock.spa());
        Reply stockExchange = stockBackend.exchange(stockLogin.text("access_token"), "requested_token_type", REFRESH_TOKEN_TYPE);
        assertThat(stockExchange.status()).as("stock exchange: %s", stockExchange).isEqualTo(200);
        JsonNode claims = Oidc.claims(stockExchange.text("refresh_token"));
        assertThat(claims.has("rg_fid")).isFalse();
        assertThat(stockBackend.refresh(stockExchange.text("refresh_token")).status()).isEqualTo(200);
        assertThat(familiesOfRealm(stock)).isZero();

        Reply guardedExchange = backend.exchange(login(spa).text("access_token"), "requested_token_type", REFRESH_TOKEN_TYPE);
        assertThat(fields(guardedExchange.json())).isEqualTo(fields(stockExchange.json()));
    }

    @Test
    void badSubjectTokensGetTheStandardErrorInBothRealms() {
        List<String> answers = new ArrayList<>();
        for (TestRealm realm : List.of(guarded, stock)) {
            Oidc client = realm.confidential("backend", BACKEND_SECRET);
            for (String token : List.of("not-a-token", login(realm.spa()).text("refresh_token"))) {
                Reply reply = client.exchange(token, "requested_token_type", REFRESH_TOKEN_TYPE);
                assertThat(reply.status()).as("%s: %s", realm.name, reply).isEqualTo(400);
                answers.add(reply.text("error") + "|" + reply.text("error_description"));
            }
        }
        assertThat(new TreeSet<>(answers)).containsExactly("invalid_request|Invalid token");
    }

    /** alice's spa login, a child family of the backend under it, and a grandchild of the partner under that. */
    private Lineage lineage() {
        Reply login = login(spa);
        Reply child = backend.exchange(login.text("access_token"), "requested_token_type", REFRESH_TOKEN_TYPE);
        assertThat(child.status()).as("exchange: %s", child).isEqualTo(200);
        Reply grandchild = partner.exchange(child.text("access_token"), "requested_token_type", REFRESH_TOKEN_TYPE);
        assertThat(grandchild.status()).as("second exchange: %s", grandchild).isEqualTo(200);
        Lineage lineage = new Lineage(login, child, grandchild);
        assertThat(ledger(lineage.childId())).containsEntry("parent_id", lineage.parentId());
        assertThat(ledger(lineage.grandchildId())).containsEntry("parent_id", lineage.childId());
        return lineage;
    }

    private record Lineage(Reply login, Reply child, Reply grandchild) {
        String parentId() {
            return familyOf(login.text("refresh_token"));
        }

        String childId() {
            return familyOf(child.text("refresh_token"));
        }

        String grandchildId() {
            return familyOf(grandchild.text("refresh_token"));
        }
    }

    private Reply login(Oidc client) {
        Reply login = client.password("alice", "alice");
        assertThat(login.status()).as("login: %s", login).isEqualTo(200);
        return login;
    }

    private static String familyOf(String refreshToken) {
        return Oidc.claims(refreshToken).get("rg_fid").asText();
    }

    /** As the resource server {@code api} sees the token. */
    private JsonNode introspect(String accessToken) {
        Reply reply = guarded.oidc("api").introspect(accessToken);
        assertThat(reply.status()).isEqualTo(200);
        return reply.json();
    }

    /** The guarded realm's event of that type and error about that family; fails when there is none. */
    private JsonNode event(String type, String error, String familyId) {
        return guarded.admin.events(guarded.name, type, error).stream()
                .filter(e -> familyId.equals(e.path("details").path("family_id").asText()))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + type + " event with error " + error + " for family " + familyId));
    }

    private static List<String> fields(JsonNode json) {
        List<String> names = new ArrayList<>();
        json.fieldNames().forEachRemaining(names::add);
        names.sort(null);
        return names;
    }

    private static void audience(TestRealm realm, String clientId, String audienceClientId) {
        Map<String, Object> mapper = new LinkedHashMap<>();
        mapper.put("name", "audience-" + audienceClientId);
        mapper.put("protocol", "openid-connect");
        mapper.put("protocolMapper", "oidc-audience-mapper");
        mapper.put("config", Map.of("included.client.audience", audienceClientId, "access.token.claim", "true",
                "introspection.token.claim", "true"));
        realm.admin.ok("POST", "/" + realm.name + "/clients/" + realm.clientUuids.get(clientId) + "/protocol-mappers/models", mapper);
    }

    // The stored ledger, read over JDBC: what the server persisted, not what it answers.

    /** The family's stored row, every column (the ledger as the server left it, not what it answers). */
    private Map<String, Object> ledger(String familyId) {
        return Ledger.of(server).family(familyId);
    }

    private List<Map<String, Object>> childrenOf(String familyId) {
        return query("SELECT id FROM RG_FAMILY WHERE parent_id = ?", familyId);
    }

    private int familiesOfRealm(TestRealm realm) {
        String realmId = realm.admin.get("/" + realm.name).json().get("id").asText();
        return query("SELECT id FROM RG_FAMILY WHERE realm_id = ?", realmId).size();
    }

    private List<Map<String, Object>> query(String sql, String parameter) {
        return Ledger.of(server).rows(sql, parameter);
    }
}
