package dev.refreshguard.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.ServerLog;
import dev.refreshguard.harness.TestRealm;

/**
 * What an admin sees of the policy: bad values refused by the admin REST API with a message naming the attribute and
 * what it accepts; bad values that reached the database anyway never break a refresh, are logged once and shown as
 * invalid by the policy endpoint; rotation off on a confidential client.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PolicyIT {

    private KeycloakServer server;
    private TestRealm realm;
    private ServerLog log;

    @BeforeAll
    void realm(KeycloakServer server) {
        this.server = server;
        this.realm = TestRealm.guarded(server, "policy", Map.of());
        this.log = new ServerLog(server);
    }

    /** One refused client configuration: attributes, whether the client is public, and what the message must say. */
    record Refused(String rule, Map<String, String> attributes, boolean publicClient, String message) {
        @Override
        public String toString() {
            return rule;
        }
    }

    static List<Refused> refusals() {
        return List.of(
                new Refused("not a number", Map.of("refresh.guard.grace.seconds", "ten"), false,
                        "refresh.guard.grace.seconds accepts an integer from 0 to 300; got 'ten'"),
                new Refused("out of range (grace)", Map.of("refresh.guard.grace.seconds", "301"), false,
                        "refresh.guard.grace.seconds accepts an integer from 0 to 300; got '301'"),
                new Refused("out of range (negative idle)", Map.of("refresh.guard.idle.seconds", "-1"), false,
                        "refresh.guard.idle.seconds accepts an integer >= 0 (0 = no limit of its own); got '-1'"),
                new Refused("not a number (offline max)", Map.of("refresh.guard.offline.max.seconds", "1h"), false,
                        "refresh.guard.offline.max.seconds accepts an integer >= 0 (0 = no limit of its own); got '1h'"),
                new Refused("unknown word (rotation)", Map.of("refresh.guard.rotation", "sometimes"), false,
                        "refresh.guard.rotation accepts 'on' or 'off'; got 'sometimes'"),
                new Refused("unknown word (reuse action)", Map.of("refresh.guard.reuse.action", "revoke-everything"), false,
                        "refresh.guard.reuse.action accepts one of revoke-family, revoke-user-session, revoke-all-sessions,"
                                + " alert-only; got 'revoke-everything'"),
                new Refused("unknown word (notify user)", Map.of("refresh.guard.notify.user", "yes"), false,
                        "refresh.guard.notify.user accepts 'true' or 'false'; got 'yes'"),
                new Refused("max < idle", Map.of("refresh.guard.idle.seconds", "120", "refresh.guard.max.seconds", "60"), false,
                        "refresh.guard.max.seconds accepts 0 or a value >= refresh.guard.idle.seconds (120); got '60'"),
                new Refused("offline max < offline idle",
                        Map.of("refresh.guard.offline.idle.seconds", "120", "refresh.guard.offline.max.seconds", "60"), false,
                        "refresh.guard.offline.max.seconds accepts 0 or a value >= refresh.guard.offline.idle.seconds (120); got '60'"),
                new Refused("rotation off on a public client without DPoP", Map.of("refresh.guard.rotation", "off"), true,
                        "refresh.guard.rotation accepts 'off' only for confidential clients or public clients that require"
                                + " DPoP-bound tokens (RFC 9700 section 2.2.2); got 'off' on a public client"),
                new Refused("alert email is realm only", Map.of("refresh.guard.alert.email", "soc@example.com"), false,
                        "refresh.guard.alert.email accepts an email address (realm attribute only); it cannot be set on a"
                                + " client, set it on the realm"),
                new Refused("unknown refresh.guard key", Map.of("refresh.guard.grace.secs", "5"), false,
                        "'refresh.guard.grace.secs' is not a refresh-guard attribute"));
    }

    private static Map<String, Object> client(String clientId, boolean publicClient, Map<String, String> attributes) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("clientId", clientId);
        c.put("publicClient", publicClient);
        c.put("directAccessGrantsEnabled", true);
        c.put("redirectUris", List.of(TestRealm.REDIRECT));
        if (!publicClient) {
            c.put("secret", TestRealm.API_SECRET);
        }
        c.put("attributes", attributes);
        return c;
    }

    private static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @ParameterizedTest(name = "create refused: {0}")
    @MethodSource("refusals")
    void createWithABadValueIsRefused(Refused refused) {
        String clientId = unique("bad");
        Reply reply = realm.admin.call("POST", "/" + realm.name + "/clients", client(clientId, refused.publicClient(), refused.attributes()));
        assertThat(reply.status()).as("%s", reply).isEqualTo(400);
        assertThat(reply.text("error")).isEqualTo("invalid_input");
        assertThat(reply.text("error_description")).contains(refused.message());
        // Nothing was created.
        assertThat(realm.admin.get("/" + realm.name + "/clients?clientId=" + clientId).json()).isEmpty();
    }

    @ParameterizedTest(name = "update refused: {0}")
    @MethodSource("refusals")
    void updateWithABadValueIsRefusedAndChangesNothing(Refused refused) {
        String clientId = unique("upd");
        String uuid = realm.admin.createClient(realm.name, client(clientId, refused.publicClient(), Map.of("refresh.guard.grace.seconds", "5")));
        Reply reply = realm.admin.setClientAttributes(realm.name, uuid, refused.attributes());
        assertThat(reply.status()).as("%s", reply).isEqualTo(400);
        assertThat(reply.text("error")).isEqualTo("invalid_input");
        assertThat(reply.text("error_description")).contains(refused.message());
        JsonNode stored = realm.admin.client(realm.name, uuid).get("attributes");
        assertThat(stored.path("refresh.guard.grace.seconds").asText()).isEqualTo("5");
        refused.attributes().keySet().stream().filter(k -> !k.equals("refresh.guard.grace.seconds"))
                .forEach(k -> assertThat(stored.has(k)).as("%s stored", k).isFalse());
    }

    @Test
    void makingAClientWithRotationOffPublicIsRefused() {
        String uuid = realm.admin.createClient(realm.name, client(unique("conf"), false, Map.of("refresh.guard.rotation", "off")));
        JsonNode rep = realm.admin.client(realm.name, uuid);
        ((com.fasterxml.jackson.databind.node.ObjectNode) rep).put("publicClient", true);
        Reply reply = realm.admin.call("PUT", "/" + realm.name + "/clients/" + uuid, rep);
        assertThat(reply.status()).as("%s", reply).isEqualTo(400);
        assertThat(reply.text("error_description")).contains("refresh.guard.rotation accepts 'off' only for confidential clients");
        assertThat(realm.admin.client(realm.name, uuid).get("publicClient").asBoolean()).isFalse();
    }

    @Test
    void everyValidValueIsAccepted() {
        Map<String, String> all = new LinkedHashMap<>();
        all.put("refresh.guard.rotation", "off");
        all.put("refresh.guard.reuse.action", "revoke-user-session");
        all.put("refresh.guard.grace.seconds", "300");
        all.put("refresh.guard.idle.seconds", "60");
        all.put("refresh.guard.max.seconds", "60");
        all.put("refresh.guard.offline.idle.seconds", "0");
        all.put("refresh.guard.offline.max.seconds", "86400");
        all.put("refresh.guard.notify.user", "true");
        Reply created = realm.admin.call("POST", "/" + realm.name + "/clients", client(unique("good"), false, all));
        assertThat(created.status()).as("%s", created).isEqualTo(201);

        // Rotation off on a public client that requires DPoP-bound tokens (RFC 9700 §2.2.2).
        Map<String, String> dpop = Map.of("refresh.guard.rotation", "off", "dpop.bound.access.tokens", "true");
        Reply publicDpop = realm.admin.call("POST", "/" + realm.name + "/clients", client(unique("dpop"), true, dpop));
        assertThat(publicDpop.status()).as("%s", publicDpop).isEqualTo(201);

        // An update with valid values, and a blank value (= unset), is accepted.
        String uuid = realm.admin.createClient(realm.name, client(unique("upd-ok"), true, Map.of()));
        Reply updated = realm.admin.setClientAttributes(realm.name, uuid,
                Map.of("refresh.guard.idle.seconds", "30", "refresh.guard.max.seconds", "", "refresh.guard.reuse.action", "alert-only"));
        assertThat(updated.status()).as("%s", updated).isEqualTo(204);
    }

    @Test
    void keycloaksOwnValidationStillRuns() {
        Map<String, Object> c = client(unique("kc"), true, Map.of());
        c.put("redirectUris", List.of("javascript:alert(1)"));
        Reply reply = realm.admin.call("POST", "/" + realm.name + "/clients", c);
        assertThat(reply.status()).as("%s", reply).isEqualTo(400);
        assertThat(reply.text("error_description")).containsIgnoringCase("redirect");
    }

    @Test
    void aBadRealmAttributeFallsBackLogsOnceAndIsShownInvalid() {
        TestRealm bad = TestRealm.guarded(server, "badrealm", Map.of());
        bad.admin.setRealmAttributes(bad.name, Map.of("refresh.guard.idle.seconds", "soon",
                "refresh.guard.reuse.action", "nuke-it"));

        // Refreshes keep working, with the defaults, through several clients and several refreshes.
        for (String clientId : List.of("spa", "api", "other")) {
            Oidc oidc = bad.oidc(clientId);
            Reply login = oidc.password("alice", "alice");
            assertThat(login.status()).as("%s", login).isEqualTo(200);
            String token = login.text("refresh_token");
            for (int i = 0; i < 2; i++) {
                Reply refreshed = oidc.refresh(token);
                assertThat(refreshed.status()).as("%s", refreshed).isEqualTo(200);
                token = refreshed.text("refresh_token");
            }
            // Default idle (0): Keycloak's own limit (SSO session idle, 30 minutes) decides.
            assertThat(Oidc.claims(token).get("exp").asLong() - Oidc.claims(token).get("iat").asLong()).isEqualTo(1800);
        }

        JsonNode policy = bad.admin.ok("GET", "/" + bad.name + "/refresh-guard/policy?client_id=spa", null).json();
        JsonNode idle = policy.get("attributes").get("refresh.guard.idle.seconds");
        assertThat(idle.get("valid").asBoolean()).isFalse();
        assertThat(idle.get("source").asText()).isEqualTo("realm");
        assertThat(idle.get("value").asText()).isEqualTo("0");
        assertThat(idle.get("rejectedValue").asText()).isEqualTo("soon");
        assertThat(idle.get("problem").asText()).startsWith("refresh.guard.idle.seconds accepts an integer >= 0");
        assertThat(policy.get("attributes").get("refresh.guard.reuse.action").get("rejectedValue").asText()).isEqualTo("nuke-it");

        // A later log line proves the earlier ones are all written: then count.
        bad.admin.setRealmAttributes(bad.name, Map.of("refresh.guard.notify.user", "perhaps"));
        assertThat(bad.spa().password("bob", "bob").status()).isEqualTo(200);
        Await.until(Duration.ofSeconds(30), "the notify.user ERROR line",
                () -> !log.errors("realm '" + bad.name + "'", "refresh.guard.notify.user").isEmpty());
        // Logged once each: no second line within a settle window either.
        assertThat(Await.exactlyOne(Duration.ofSeconds(30), "ERROR line about idle.seconds",
                () -> log.errors("realm '" + bad.name + "'", "refresh.guard.idle.seconds"))).asString()
                .contains("got 'soon'", "(from the realm attribute); using the default '0'");
        Await.exactlyOne(Duration.ofSeconds(30), "ERROR line about reuse.action",
                () -> log.errors("realm '" + bad.name + "'", "refresh.guard.reuse.action"));
        Await.exactlyOne(Duration.ofSeconds(30), "ERROR line about notify.user",
                () -> log.errors("realm '" + bad.name + "'", "refresh.guard.notify.user"));
    }

    @Test
    void badValuesOfImportedClientsNeverBreakARefresh() {
        // Partial import does not run client validation: the bad values reach the database.
        Map<String, Object> imported = client("imported", true, Map.of("refresh.guard.grace.seconds", "lots",
                "refresh.guard.rotation", "off", "refresh.guard.max.seconds", "-3"));
        imported.put("standardFlowEnabled", true);
        Reply importReply = realm.admin.call("POST", "/" + realm.name + "/partialImport",
                Map.of("ifResourceExists", "FAIL", "clients", List.of(imported)));
        assertThat(importReply.status()).as("%s", importReply).isEqualTo(200);

        Oidc oidc = realm.oidc("imported");
        Reply login = oidc.password("alice", "alice");
        assertThat(login.status()).as("%s", login).isEqualTo(200);
        Reply refreshed = oidc.refresh(login.text("refresh_token"));
        assertThat(refreshed.status()).as("%s", refreshed).isEqualTo(200);
        // Rotation fell back to 'on': the rotated-away token is now reuse.
        Oidc.expectReuseDetected(oidc.refresh(login.text("refresh_token")));

        JsonNode attributes = realm.admin.ok("GET", "/" + realm.name + "/refresh-guard/policy?client_id=imported", null)
                .json().get("attributes");
        for (String key : List.of("refresh.guard.grace.seconds", "refresh.guard.rotation", "refresh.guard.max.seconds")) {
            assertThat(attributes.get(key).get("valid").asBoolean()).as(key).isFalse();
            assertThat(attributes.get(key).get("source").asText()).as(key).isEqualTo("client");
        }
        assertThat(attributes.get("refresh.guard.rotation").get("value").asText()).isEqualTo("on");
        Await.until(Duration.ofSeconds(30), "the ERROR line of the imported client",
                () -> log.errors("realm '" + realm.name + "', client 'imported'", "refresh.guard.max.seconds").size() == 1);
    }

    @Test
    void badValuesOfARealmImportNeverBreakARefresh() {
        String name = unique("imported-realm");
        Map<String, Object> rep = new LinkedHashMap<>();
        rep.put("realm", name);
        rep.put("enabled", true);
        rep.put("eventsListeners", List.of("jboss-logging", "refresh-guard"));
        rep.put("attributes", Map.of("refresh.guard.grace.seconds", "999"));
        rep.put("clients", List.of(client("spa", true, Map.of("refresh.guard.idle.seconds", "forever"))));
        rep.put("users", List.of(Map.of("username", "alice", "enabled", true, "email", "alice@example.com",
                "firstName", "alice", "lastName", "Test", "emailVerified", true,
                "credentials", List.of(Map.of("type", "password", "value", "alice", "temporary", false)))));
        realm.admin.createRealm(rep);

        Oidc spa = new Oidc(server, name, "spa", null);
        Reply login = spa.password("alice", "alice");
        assertThat(login.status()).as("%s", login).isEqualTo(200);
        assertThat(spa.refresh(login.text("refresh_token")).status()).isEqualTo(200);

        JsonNode attributes = realm.admin.ok("GET", "/" + name + "/refresh-guard/policy?client_id=spa", null).json().get("attributes");
        JsonNode idle = attributes.get("refresh.guard.idle.seconds");
        assertThat(idle.get("valid").asBoolean()).isFalse();
        assertThat(idle.get("source").asText()).isEqualTo("client");
        assertThat(idle.get("rejectedValue").asText()).isEqualTo("forever");
        JsonNode grace = attributes.get("refresh.guard.grace.seconds");
        assertThat(grace.get("valid").asBoolean()).isFalse();
        assertThat(grace.get("source").asText()).isEqualTo("realm");
    }

    @Test
    void rotationOffOnAConfidentialClientKeepsTheOldTokenWorkingWithoutReuse() {
        TestRealm off = TestRealm.guarded(server, "rotoff", Map.of());
        off.clientAttributes("api", Map.of("refresh.guard.rotation", "off"));
        Oidc api = off.oidc("api");
        Reply login = api.password("alice", "alice");
        String original = login.text("refresh_token");
        for (int i = 0; i < 3; i++) {
            Reply again = api.refresh(original);
            assertThat(again.status()).as("refresh %d with the original token: %s", i, again).isEqualTo(200);
            assertThat(api.refresh(again.text("refresh_token")).status()).isEqualTo(200);
        }
        assertThat(off.admin.events(off.name, "REFRESH_TOKEN_ERROR")).isEmpty();
        assertThat(off.admin.events(off.name, "REFRESH_TOKEN")).hasSize(6);
        JsonNode families = off.admin.ok("GET", "/" + off.name + "/refresh-guard/families?user_id=" + off.userIds.get("alice"), null).json();
        assertThat(families).hasSize(1);
        assertThat(families.get(0).get("state").asText()).isEqualTo("ACTIVE");
        // Nothing rotates, but the ledger counts every token issued (the newest wins when rotation is switched on).
        assertThat(families.get(0).get("generation").asInt()).isEqualTo(6);

        // The same realm's public client still rotates.
        Oidc spa = off.spa();
        Reply spaLogin = spa.password("alice", "alice");
        assertThat(spa.refresh(spaLogin.text("refresh_token")).status()).isEqualTo(200);
        Oidc.expectReuseDetected(spa.refresh(spaLogin.text("refresh_token")));
    }
}
