package dev.refreshguard.family;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.DistributionServer;
import dev.refreshguard.harness.FamilyEvents;
import dev.refreshguard.harness.Http;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.Ledger;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.TestRealm;

/**
 * Issue 23, point 2: the grants and exchanges besides code, password and standard exchange. The device grant and CIBA
 * start a family (generation 0, no parent) that rotates and detects reuse like any other; legacy token exchange (v1,
 * feature {@code token-exchange}) is wrapped like standard exchange: the refresh token it mints starts a child family
 * of exactly the subject token's family, and a subject token of a revoked family is refused on every request shape
 * that routes to v1. One server of its own: v1 is a preview feature, and CIBA needs an authentication channel (a tiny
 * HTTP server in this test) set at startup.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OtherGrantsIT {

    private static final String REFRESH_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:refresh_token";
    private static final String DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
    private static final String CIBA_GRANT = "urn:openid:params:grant-type:ciba";
    private static final String SECRET = "s3cret-other-grants";

    private final Http http = new Http();
    private final BlockingQueue<String> channelBearers = new LinkedBlockingQueue<>();
    private HttpServer channel;
    private DistributionServer server;

    @BeforeAll
    void start() throws IOException {
        // CIBA's authentication device: Keycloak posts each request here with a bearer token the test answers with.
        channel = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        channel.createContext("/ciba", exchange -> {
            try (InputStream body = exchange.getRequestBody()) {
                body.readAllBytes();
            }
            String authorization = exchange.getRequestHeaders().getFirst("Authorization");
            if (authorization != null && authorization.startsWith("Bearer ")) {
                channelBearers.add(authorization.substring("Bearer ".length()));
            }
            exchange.sendResponseHeaders(201, -1);
            exchange.close();
        });
        channel.start();
        server = DistributionServer.startFromCopy("other-grants", "rg_it_grants_" + System.currentTimeMillis(), List.of(
                "--features=token-exchange",
                "--spi-ciba-auth-channel--ciba-http-auth-channel--http-authentication-channel-uri=http://127.0.0.1:"
                        + channel.getAddress().getPort() + "/ciba"), Map.of());
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
        if (channel != null) {
            channel.stop(0);
        }
    }

    @Test
    void theDeviceGrantStartsAFamilyThatRotatesAndDetectsReuse() {
        TestRealm realm = TestRealm.guarded(server, "device", Map.of());
        realm.addPublicClient("tv");
        realm.clientAttributes("tv", Map.of("oauth2.device.authorization.grant.enabled", "true"));
        String realmUrl = server.baseUrl() + "/realms/" + realm.name;

        Reply authorization = http.postForm(realmUrl + "/protocol/openid-connect/auth/device", Map.of("client_id", "tv", "scope", "openid"));
        assertThat(authorization.status()).as("device authorization: %s", authorization).isEqualTo(200);
        // The user approves on the verification page, in a browser of their own.
        Oidc.Browser browser = new Oidc.Browser();
        Reply login = browser.get(http, authorization.text("verification_uri_complete"));
        Reply approved = browser.submit(http, login, Map.of("username", "alice", "password", "alice"));
        if (approved.body().contains("name=\"accept\"")) {
            approved = browser.submit(http, approved, Map.of("accept", "Yes"));
        }
        assertThat(approved.status()).as("approval: %s", approved).isEqualTo(200);

        Map<String, String> poll = Map.of("grant_type", DEVICE_GRANT, "device_code", authorization.text("device_code"), "client_id", "tv");
        Reply tokens = Await.value(Duration.ofSeconds(30), "the device grant's tokens", () -> {
            Reply r = http.postForm(realmUrl + "/protocol/openid-connect/token", poll);
            return r.status() == 200 ? r : pending(r);
        });
        assertFamilyStartsRotatesAndDetectsReuse(realm, realm.oidc("tv"), tokens, "tv");
    }

    @Test
    void cibaStartsAFamilyThatRotatesAndDetectsReuse() {
        TestRealm realm = TestRealm.guarded(server, "ciba", Map.of());
        // Interval 1 s: Keycloak 26.7.3 answers a CIBA poll with a 500 when the realm's interval is 0 (its polling check
        // stores a marker with lifespan 0); a poll inside the interval gets slow_down and is repeated.
        realm.admin.setRealmAttributes(realm.name, Map.of("cibaBackchannelTokenDeliveryMode", "poll", "cibaInterval", "1",
                "cibaExpiresIn", "120", "cibaAuthRequestedUserHint", "login_hint"));
        realm.addConfidentialClient("bank", SECRET, Map.of("attributes", Map.of("oidc.ciba.grant.enabled", "true")));
        String realmUrl = server.baseUrl() + "/realms/" + realm.name;
        channelBearers.clear();

        Reply request = http.postForm(realmUrl + "/protocol/openid-connect/ext/ciba/auth", Map.of("client_id", "bank",
                "client_secret", SECRET, "scope", "openid", "login_hint", "alice", "binding_message", "doors"));
        assertThat(request.status()).as("backchannel authentication request: %s", request).isEqualTo(200);
        String bearer = Await.value(Duration.ofSeconds(30), "Keycloak's call on the authentication channel", () -> {
            try {
                return channelBearers.poll(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        });
        // The user approves on their authentication device.
        Reply callback = http.json("POST", realmUrl + "/protocol/openid-connect/ext/ciba/auth/callback", bearer, Map.of("status", "SUCCEED"));
        assertThat(callback.status()).as("authentication result: %s", callback).isEqualTo(200);

        Map<String, String> poll = Map.of("grant_type", CIBA_GRANT, "auth_req_id", request.text("auth_req_id"),
                "client_id", "bank", "client_secret", SECRET);
        Reply tokens = Await.value(Duration.ofSeconds(30), "the CIBA grant's tokens", () -> {
            Reply r = http.postForm(realmUrl + "/protocol/openid-connect/token", poll);
            return r.status() == 200 ? r : pending(r);
        });
        assertFamilyStartsRotatesAndDetectsReuse(realm, realm.confidential("bank", SECRET), tokens, "bank");
    }

    @Test
    void legacyExchangeStartsAChildOfTheSubjectFamilyAndEveryShapeRefusesARevokedOne() {
        TestRealm realm = TestRealm.guarded(server, "legacy-tx", Map.of());
        // No standard token exchange on this client: every exchange it asks for routes to v1.
        realm.addConfidentialClient("legacy", SECRET, Map.of());
        realm.addAudience("spa", "legacy");
        Oidc spa = realm.spa();
        Oidc legacy = realm.confidential("legacy", SECRET);
        Reply login = spa.password("alice", "alice");
        String parentId = Oidc.claims(login.text("refresh_token")).get("rg_fid").asText();

        Reply exchanged = legacy.exchange(login.text("access_token"), "requested_token_type", REFRESH_TOKEN_TYPE);
        assertThat(exchanged.status()).as("legacy exchange: %s", exchanged).isEqualTo(200);
        String child0 = exchanged.text("refresh_token");
        String childId = Oidc.claims(child0).get("rg_fid").asText();
        assertThat(childId).isNotEqualTo(parentId);
        assertThat(Oidc.claims(child0).get("rg_gen").asInt()).isZero();
        Map<String, Object> row = Ledger.of(server).family(childId);
        assertThat(row.get("parent_id")).as("the child's parent in the ledger").isEqualTo(parentId);
        assertThat(row.get("client_id")).isEqualTo(realm.clientUuids.get("legacy"));

        // The child rotates and detects reuse under its own client's policy; the parent family is untouched.
        String child1 = ok(legacy.refresh(child0)).text("refresh_token");
        assertThat(Oidc.claims(child1).get("rg_gen").asInt()).isEqualTo(1);
        Oidc.expectReuseDetected(legacy.refresh(child0));
        JsonNode reused = FamilyEvents.only(realm.admin, realm.name, "refresh_token_reused", childId);
        assertThat(reused.get("clientId").asText()).isEqualTo("legacy");
        assertThat(reused.get("details").get("generation").asText()).isEqualTo("0");
        assertThat(reused.get("details").get("latest_generation").asText()).isEqualTo("1");
        assertThat(Ledger.of(server).family(parentId).get("state")).isEqualTo("ACTIVE");

        // The parent revoked by hand: every request shape that routes to v1 refuses its access token.
        realm.admin.ok("POST", "/" + realm.name + "/refresh-guard/families/" + parentId + "/revoke", null);
        List<List<String>> shapes = List.of(
                List.of("requested_token_type", REFRESH_TOKEN_TYPE),
                List.of("requested_subject", "bob"),
                List.of("requested_issuer", "some-idp"),
                List.of("subject_issuer", "some-idp"));
        for (List<String> shape : shapes) {
            Reply refused = legacy.exchange(login.text("access_token"), shape.toArray(String[]::new));
            assertThat(refused.status() + " " + refused.text("error") + " " + refused.text("error_description"))
                    .as("shape %s: %s", shape, refused)
                    .isEqualTo("400 invalid_request Invalid subject_token: its refresh token family is revoked");
        }
        List<JsonNode> events = Await.value(Duration.ofSeconds(30), "four refusals of family " + parentId, () -> {
            List<JsonNode> found = realm.admin.events(realm.name, "TOKEN_EXCHANGE_ERROR", "refresh_token_family_revoked").stream()
                    .filter(e -> parentId.equals(e.path("details").path("family_id").asText())).toList();
            return found.size() >= shapes.size() ? found : null;
        });
        assertThat(events).hasSize(shapes.size()).allSatisfy(e -> assertThat(e.path("clientId").asText()).isEqualTo("legacy"));
        assertThat(Ledger.of(server).rows("SELECT ID FROM RG_FAMILY WHERE PARENT_ID = ?", parentId)).hasSize(1);
    }

    /**
     * OID4VCI (feature {@code oid4vc-vci}, experimental, off by default) is out of scope: Keycloak's OID4VCI refresh
     * provider (order 10, ahead of refresh-guard's 5) would take the refresh tokens of credential scopes. Pinned: with
     * the feature off, as here, only Keycloak's default provider and refresh-guard's serve refresh tokens.
     */
    @Test
    void oid4vciRefreshTokensHaveNoProviderWhileTheFeatureIsOff() {
        TestRealm realm = TestRealm.guarded(server, "oid4vci", Map.of());
        JsonNode providers = realm.admin.admin("GET", "/serverinfo", null).json().path("providers").path("refresh-token").path("providers");
        List<String> ids = new java.util.ArrayList<>();
        providers.fieldNames().forEachRemaining(ids::add);
        assertThat(ids).containsExactlyInAnyOrder("default", "refresh-guard");
    }

    /** Generation 0, no parent; a refresh rotates to 1; generation 0 again is reuse, which revokes the family. */
    private void assertFamilyStartsRotatesAndDetectsReuse(TestRealm realm, Oidc client, Reply tokens, String clientId) {
        String t0 = tokens.text("refresh_token");
        assertThat(t0).as("a refresh token: %s", tokens).isNotBlank();
        JsonNode claims = Oidc.claims(t0);
        String familyId = claims.get("rg_fid").asText();
        assertThat(claims.get("rg_gen").asInt()).isZero();
        Map<String, Object> row = Ledger.of(server).family(familyId);
        assertThat(row.get("generation")).isEqualTo(0);
        assertThat(row.get("state")).isEqualTo("ACTIVE");
        assertThat(row.get("parent_id")).as("a grant has no parent").isIn("", null);
        assertThat(row.get("client_id")).isEqualTo(realm.clientUuids.get(clientId));
        assertThat(row.get("user_id")).isEqualTo(realm.userIds.get("alice"));

        String t1 = ok(client.refresh(t0)).text("refresh_token");
        assertThat(Oidc.claims(t1).get("rg_gen").asInt()).isEqualTo(1);
        Oidc.expectReuseDetected(client.refresh(t0));
        JsonNode reused = FamilyEvents.only(realm.admin, realm.name, "refresh_token_reused", familyId);
        assertThat(reused.get("clientId").asText()).isEqualTo(clientId);
        assertThat(reused.get("userId").asText()).isEqualTo(realm.userIds.get("alice"));
        assertThat(reused.get("details").get("generation").asText()).isEqualTo("0");
        assertThat(reused.get("details").get("latest_generation").asText()).isEqualTo("1");
        assertThat(reused.get("details").get("action").asText()).isEqualTo("revoke-family");
        Oidc.expectFamilyRevokedAfterReuse(client.refresh(t1));
    }

    /** Null while the grant is still pending (the poll is repeated); anything else fails the test at once. */
    private static Reply pending(Reply r) {
        String error = r.text("error");
        if (r.status() == 400 && ("authorization_pending".equals(error) || "slow_down".equals(error))) {
            return null;
        }
        throw new AssertionError("token request: " + r);
    }

    private static Reply ok(Reply reply) {
        assertThat(reply.status()).as("refresh: %s", reply).isEqualTo(200);
        return reply;
    }
}
