package dev.refreshguard.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.Http;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.RealmAdmins;
import dev.refreshguard.harness.TestRealm;

/**
 * {@code /admin/realms/{realm}/refresh-guard}: the effective policy, a user's families and the manual revoke, each with
 * the roles docs/admin-api.md names; 401 without a token, 403 for the wrong roles or another realm, 404 for unknown ids,
 * 400 for a missing parameter, never a 5xx.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdminApiIT {

    private static final String LONG_ID = "x".repeat(1000);

    private KeycloakServer server;
    private TestRealm realm;
    private TestRealm other;
    private RealmAdmins admins;
    private RealmAdmins foreignAdmins;

    @BeforeAll
    void realms(KeycloakServer server) {
        this.server = server;
        realm = TestRealm.guarded(server, "adminapi", Map.of("refresh.guard.idle.seconds", "900"));
        realm.admin.ok("PUT", "/" + realm.name, Map.of("adminEventsEnabled", true));
        realm.clientAttributes("api", Map.of("refresh.guard.grace.seconds", "10"));
        realm.addAudience("spa", "api");
        admins = new RealmAdmins(realm);
        admins.create("viewclients", "view-clients");
        admins.create("viewrealm", "view-realm");
        admins.create("viewusers", "view-users");
        admins.create("manageusers", "manage-users");
        admins.create("nobody");
        other = TestRealm.guarded(server, "adminapi-other", Map.of());
        foreignAdmins = new RealmAdmins(other);
        foreignAdmins.create("foreign", "view-realm", "view-clients", "view-users", "manage-users");
    }

    private Reply as(String username, String method, String path) {
        return admins.call(admins.token(username), method, "/refresh-guard/" + path, null);
    }

    private Reply asForeigner(String method, String path) {
        return admins.call(foreignAdmins.token("foreign"), method, "/refresh-guard/" + path, null);
    }

    private static String q(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    /** A new user of the realm, logged in with the given clients; returns the refresh tokens by client. */
    private Map<String, Reply> loginNewUser(TestRealm where, String username, String... clientIds) {
        where.addUser(username);
        Map<String, Reply> logins = new java.util.LinkedHashMap<>();
        for (String clientId : clientIds) {
            Reply login = where.oidc(clientId).password(username, username);
            assertThat(login.status()).as("%s", login).isEqualTo(200);
            logins.put(clientId, login);
        }
        return logins;
    }

    private static String familyOf(Reply login) {
        return Oidc.claims(login.text("refresh_token")).get("rg_fid").asText();
    }

    private static void assertError(Reply reply, int status) {
        assertThat(reply.status()).as("%s", reply).isEqualTo(status);
        assertThat(reply.json()).as("JSON error body of %s", reply).isNotNull();
    }

    @Test
    void withoutATokenEveryEndpointIs401() {
        String alice = realm.userIds.get("alice");
        for (String[] call : List.of(new String[] {"GET", "policy?client_id=spa"}, new String[] {"GET", "families?user_id=" + alice},
                new String[] {"POST", "families/" + UUID.randomUUID() + "/revoke"})) {
            assertThat(admins.call(null, call[0], "/refresh-guard/" + call[1], null).status()).as("%s", (Object) call).isEqualTo(401);
            assertThat(admins.call("not.a.token", call[0], "/refresh-guard/" + call[1], null).status()).isEqualTo(401);
        }
    }

    @Test
    void policyNeedsViewRealmOrViewClients() {
        assertThat(as("viewclients", "GET", "policy?client_id=spa").status()).isEqualTo(200);
        assertThat(as("viewrealm", "GET", "policy?client_id=spa").status()).isEqualTo(200);
        for (String user : List.of("viewusers", "manageusers", "nobody")) {
            assertThat(as(user, "GET", "policy?client_id=spa").status()).as(user).isEqualTo(403);
            // An unknown client is 403 to those who may not list clients: no hint which clients exist.
            assertThat(as(user, "GET", "policy?client_id=nope").status()).as(user).isEqualTo(403);
        }
        assertThat(asForeigner("GET", "policy?client_id=spa").status()).isEqualTo(403);
    }

    @Test
    void policyShowsEveryAttributeWithValueSourceAndValidity() {
        JsonNode body = as("viewclients", "GET", "policy?client_id=api").json();
        assertThat(body.get("realm").asText()).isEqualTo(realm.name);
        assertThat(body.get("clientId").asText()).isEqualTo("api");
        assertThat(body.get("protected").asBoolean()).isTrue();
        JsonNode attributes = body.get("attributes");
        List<String> keys = new ArrayList<>();
        attributes.fieldNames().forEachRemaining(keys::add);
        assertThat(keys).containsExactly("refresh.guard.rotation", "refresh.guard.reuse.action",
                "refresh.guard.reuse.action.likely-retry", "refresh.guard.reuse.retry.seconds", "refresh.guard.grace.seconds",
                "refresh.guard.idle.seconds", "refresh.guard.max.seconds", "refresh.guard.offline.idle.seconds",
                "refresh.guard.offline.max.seconds", "refresh.guard.notify.user", "refresh.guard.alert.email",
                "refresh.guard.wasnt.me.seconds", "refresh.guard.wasnt.me.update.password");
        assertThat(attributes.get("refresh.guard.grace.seconds").toString())
                .isEqualTo("{\"value\":\"10\",\"source\":\"client\",\"valid\":true}");
        assertThat(attributes.get("refresh.guard.idle.seconds").toString())
                .isEqualTo("{\"value\":\"900\",\"source\":\"realm\",\"valid\":true}");
        assertThat(attributes.get("refresh.guard.rotation").toString())
                .isEqualTo("{\"value\":\"on\",\"source\":\"default\",\"valid\":true}");
        assertThat(attributes.get("refresh.guard.alert.email").toString())
                .isEqualTo("{\"source\":\"default\",\"valid\":true}");

        TestRealm stock = TestRealm.stock(server, "adminapi-stock");
        JsonNode unprotected = stock.admin.ok("GET", "/" + stock.name + "/refresh-guard/policy?client_id=spa", null).json();
        assertThat(unprotected.get("protected").asBoolean()).isFalse();
    }

    @Test
    void policyInputErrorsAre4xx() {
        assertError(as("viewclients", "GET", "policy"), 400);
        assertError(as("viewclients", "GET", "policy?client_id="), 400);
        assertError(as("viewclients", "GET", "policy?client_id=no-such-client"), 404);
        assertThat(as("viewclients", "GET", "policy?client_id=no-such-client").text("errorMessage")).isEqualTo("Client not found");
        // The internal id is not a client_id.
        assertError(as("viewclients", "GET", "policy?client_id=" + realm.clientUuids.get("spa")), 404);
        assertError(as("viewclients", "GET", "policy?client_id=" + LONG_ID), 404);
        assertError(as("viewclients", "GET", "policy?client_id=" + q("a b/../c%00'\"")), 404);
        // A client of another realm is unknown here.
        other.addPublicClient("only-in-other");
        assertError(as("viewclients", "GET", "policy?client_id=only-in-other"), 404);
    }

    @Test
    void familiesNeedViewUsers() {
        String alice = realm.userIds.get("alice");
        assertThat(as("viewusers", "GET", "families?user_id=" + alice).status()).isEqualTo(200);
        // manage-users includes viewing users in Keycloak.
        assertThat(as("manageusers", "GET", "families?user_id=" + alice).status()).isEqualTo(200);
        for (String user : List.of("viewclients", "viewrealm", "nobody")) {
            assertThat(as(user, "GET", "families?user_id=" + alice).status()).as(user).isEqualTo(403);
            assertThat(as(user, "GET", "families?user_id=" + UUID.randomUUID()).status()).as(user).isEqualTo(403);
        }
        assertThat(asForeigner("GET", "families?user_id=" + alice).status()).isEqualTo(403);
    }

    @Test
    void familiesListTheUsersFamilies() {
        Map<String, Reply> logins = loginNewUser(realm, "carol", "spa", "api");
        Reply rotated = realm.spa().refresh(logins.get("spa").text("refresh_token"));
        assertThat(rotated.status()).isEqualTo(200);

        JsonNode families = as("viewusers", "GET", "families?user_id=" + realm.userIds.get("carol")).json();
        assertThat(families).hasSize(2);
        JsonNode spa = find(families, familyOf(logins.get("spa")));
        JsonNode api = find(families, familyOf(logins.get("api")));
        assertThat(spa.get("clientId").asText()).isEqualTo("spa");
        assertThat(spa.get("generation").asInt()).isEqualTo(1);
        assertThat(spa.get("state").asText()).isEqualTo("ACTIVE");
        assertThat(spa.get("offline").asBoolean()).isFalse();
        // Keycloak's JSON leaves out what is null.
        assertThat(spa.hasNonNull("parentId")).isFalse();
        assertThat(spa.hasNonNull("revokedReason")).isFalse();
        assertThat(spa.hasNonNull("revokedAt")).isFalse();
        long iat = Oidc.claims(logins.get("spa").text("refresh_token")).get("iat").asLong();
        assertThat(spa.get("created").asLong()).isEqualTo(iat);
        assertThat(spa.get("lastRotation").asLong()).isEqualTo(Oidc.claims(rotated.text("refresh_token")).get("iat").asLong());
        assertThat(api.get("clientId").asText()).isEqualTo("api");
        assertThat(api.get("generation").asInt()).isZero();
        assertThat(api.get("lastRotation").asLong()).isEqualTo(api.get("created").asLong());

        // A user without families: an empty list.
        assertThat(as("viewusers", "GET", "families?user_id=" + realm.userIds.get("bob")).status()).isEqualTo(200);
    }

    @Test
    void familiesInputErrorsAre4xx() {
        assertError(as("viewusers", "GET", "families"), 400);
        assertError(as("viewusers", "GET", "families?user_id=%20"), 400);
        assertError(as("viewusers", "GET", "families?user_id=" + UUID.randomUUID()), 404);
        assertThat(as("viewusers", "GET", "families?user_id=" + UUID.randomUUID()).text("errorMessage")).isEqualTo("User not found");
        for (String odd : List.of("not-a-uuid", "f:x", "f:nope:id", "f:", LONG_ID, "a b/../c'\"")) {
            assertError(as("viewusers", "GET", "families?user_id=" + q(odd)), 404);
        }
        // A user of another realm is unknown here.
        assertError(as("viewusers", "GET", "families?user_id=" + other.userIds.get("alice")), 404);
    }

    @Test
    void revokeNeedsManageUsers() {
        String family = familyOf(loginNewUser(realm, "dave", "spa").get("spa"));
        for (String user : List.of("viewusers", "viewclients", "viewrealm", "nobody")) {
            assertThat(as(user, "POST", "families/" + family + "/revoke").status()).as(user).isEqualTo(403);
        }
        // An unknown family is answered as Keycloak answers an unknown user: 404 to those who may search users
        // (view-users), 403 to anyone else, exactly as for a family they may not revoke.
        assertThat(as("viewusers", "POST", "families/" + UUID.randomUUID() + "/revoke").status()).isEqualTo(404);
        for (String user : List.of("viewclients", "viewrealm", "nobody")) {
            assertThat(as(user, "POST", "families/" + UUID.randomUUID() + "/revoke").status()).as(user).isEqualTo(403);
        }
        assertThat(asForeigner("POST", "families/" + family + "/revoke").status()).isEqualTo(403);
        JsonNode families = as("viewusers", "GET", "families?user_id=" + realm.userIds.get("dave")).json();
        assertThat(families.get(0).get("state").asText()).as("nothing revoked by the refused calls").isEqualTo("ACTIVE");
        assertThat(as("manageusers", "POST", "families/" + family + "/revoke").status()).isEqualTo(200);
    }

    @Test
    void revokeInputErrorsAre404() {
        for (String odd : List.of(UUID.randomUUID().toString(), "not-a-family", LONG_ID, q("a b'\""))) {
            assertError(as("manageusers", "POST", "families/" + odd + "/revoke"), 404);
        }
        assertThat(as("manageusers", "POST", "families/" + UUID.randomUUID() + "/revoke").text("errorMessage"))
                .isEqualTo("Family not found");

        // A family of another realm is unknown here, and stays untouched.
        Map<String, Reply> foreign = loginNewUser(other, "erin", "spa");
        assertError(as("manageusers", "POST", "families/" + familyOf(foreign.get("spa")) + "/revoke"), 404);
        assertThat(other.spa().refresh(foreign.get("spa").text("refresh_token")).status()).isEqualTo(200);
    }

    @Test
    void aManualRevokeHasTheEffectOfRevokeFamily() {
        Map<String, Reply> logins = loginNewUser(realm, "frank", "spa", "api");
        Reply spaLogin = logins.get("spa");
        Reply apiLogin = logins.get("api");
        String family = familyOf(spaLogin);
        Oidc api = realm.oidc("api");
        assertThat(api.introspect(spaLogin.text("access_token")).json().get("active").asBoolean()).isTrue();
        // One user session per password grant: two.
        int sessions = realm.admin.userSessionCount(realm.name, realm.userIds.get("frank"));
        OptionalDouble revokedBefore = familiesRevokedMetric("spa");

        Reply revoked = as("manageusers", "POST", "families/" + family + "/revoke");
        assertThat(revoked.status()).as("%s", revoked).isEqualTo(200);
        assertThat(revoked.text("id")).isEqualTo(family);
        assertThat(revoked.text("state")).isEqualTo("REVOKED");
        assertThat(revoked.json().get("familiesRevoked").asInt()).isEqualTo(1);
        assertThat(revoked.json().get("clientSessionsEnded").asInt()).isEqualTo(1);

        // The family's refresh token is refused with refresh-guard's error; its access token is dead.
        Oidc.expectFamilyRevoked(realm.spa().refresh(spaLogin.text("refresh_token")));
        JsonNode event = Await.value(Duration.ofSeconds(30), "the family_revoked event", () -> realm.admin
                .events(realm.name, "REFRESH_TOKEN_ERROR", "refresh_token_family_revoked").stream()
                .filter(e -> family.equals(e.path("details").path("family_id").asText())).findFirst().orElse(null));
        assertThat(event.path("userId").asText()).isEqualTo(realm.userIds.get("frank"));
        assertThat(api.introspect(spaLogin.text("access_token")).json().get("active").asBoolean()).isFalse();
        assertThat(realm.spa().userinfo(spaLogin.text("access_token")).status()).isEqualTo(401);

        // The user's other client and SSO session are untouched.
        assertThat(api.refresh(apiLogin.text("refresh_token")).status()).isEqualTo(200);
        assertThat(api.userinfo(apiLogin.text("access_token")).status()).isEqualTo(200);
        assertThat(realm.admin.userSessionCount(realm.name, realm.userIds.get("frank"))).isEqualTo(sessions);

        // The listing tells who revoked it; a second revoke changes nothing.
        JsonNode listed = find(as("viewusers", "GET", "families?user_id=" + realm.userIds.get("frank")).json(), family);
        assertThat(listed.get("state").asText()).isEqualTo("REVOKED");
        assertThat(listed.get("revokedReason").asText()).isEqualTo("admin");
        assertThat(listed.get("revokedAt").asLong()).isPositive();
        Reply again = as("manageusers", "POST", "families/" + family + "/revoke");
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.json().get("familiesRevoked").asInt()).isZero();

        // The metric counts it; an admin event records it.
        // Absent before means the counter never counted for spa (it is registered at its first increment); after, it must exist.
        assertThat(familiesRevokedMetric("spa")).as("refresh_guard_family_revoked_total of spa")
                .hasValue(revokedBefore.orElse(0) + 1);
        JsonNode adminEvents = realm.admin.ok("GET", "/" + realm.name + "/admin-events?max=100", null).json();
        List<JsonNode> revokes = new ArrayList<>();
        adminEvents.forEach(e -> {
            if ("REFRESH_GUARD_FAMILY".equals(e.path("resourceType").asText()) && e.path("resourcePath").asText().contains(family)) {
                revokes.add(e);
            }
        });
        assertThat(revokes).hasSize(2);
        assertThat(revokes.get(0).path("operationType").asText()).isEqualTo("ACTION");
        assertThat(revokes.get(0).path("details").path("family_id").asText()).isEqualTo(family);
        assertThat(revokes.get(0).path("authDetails").path("userId").asText()).isEqualTo(realm.userIds.get("manageusers"));
    }

    /** refresh_guard_family_revoked_total of this realm and client on the management interface; empty when there is no such series. */
    private OptionalDouble familiesRevokedMetric(String clientId) {
        Reply metrics = new Http().get(server.managementUrl() + "/metrics", null);
        assertThat(metrics.status()).as("GET /metrics").isEqualTo(200);
        List<Double> samples = metrics.body().lines().filter(l -> l.startsWith("refresh_guard_family_revoked_total{")
                        && l.contains("realm=\"" + realm.name + "\"") && l.contains("client=\"" + clientId + "\""))
                .map(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).toList();
        assertThat(samples).as("series of realm %s, client %s", realm.name, clientId).hasSizeLessThanOrEqualTo(1);
        return samples.isEmpty() ? OptionalDouble.empty() : OptionalDouble.of(samples.get(0));
    }

    private static JsonNode find(JsonNode families, String id) {
        for (JsonNode f : families) {
            if (id.equals(f.get("id").asText())) {
                return f;
            }
        }
        throw new AssertionError("family " + id + " not in " + families);
    }
}
