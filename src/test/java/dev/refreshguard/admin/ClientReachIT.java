package dev.refreshguard.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.refreshguard.harness.Http;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.RealmAdmins;
import dev.refreshguard.harness.TestRealm;

/**
 * Issue 23, point 5: settings on a client cannot reach beyond what its registrant may do. A change to
 * {@code reuse.action=revoke-all-sessions} or {@code notify.user=true} on a client is refused with 400 unless the caller
 * may manage the realm — through the admin REST API and through dynamic client registration alike; a value a realm
 * admin set stays, and others may still edit the client.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientReachIT {

    private static final String ALL_SESSIONS = "refresh.guard.reuse.action 'revoke-all-sessions' reaches beyond this client";
    private static final String NOTIFY = "refresh.guard.notify.user 'true' reaches beyond this client";

    private KeycloakServer server;
    private TestRealm realm;
    private RealmAdmins admins;

    @BeforeAll
    void realm(KeycloakServer server) {
        this.server = server;
        realm = TestRealm.guarded(server, "reach", Map.of());
        admins = new RealmAdmins(realm);
        admins.create("carl", "manage-clients", "view-clients");
        admins.create("rita", "manage-realm", "manage-clients", "view-clients");
    }

    @Test
    void aClientsAdminWithoutManageRealmCannotWiden() {
        String carl = admins.token("carl");
        Reply wide = admins.call(carl, "POST", "/clients", client(Map.of("refresh.guard.reuse.action", "revoke-all-sessions")));
        assertThat(wide.status()).as("%s", wide).isEqualTo(400);
        assertThat(wide.text("error_description")).contains(ALL_SESSIONS).contains("manage-realm");
        Reply notify = admins.call(carl, "POST", "/clients", client(Map.of("refresh.guard.notify.user", "true")));
        assertThat(notify.status()).as("%s", notify).isEqualTo(400);
        assertThat(notify.text("error_description")).contains(NOTIFY);
        Reply narrow = admins.call(carl, "POST", "/clients", client(Map.of("refresh.guard.reuse.action", "revoke-user-session",
                "refresh.guard.notify.user", "false")));
        assertThat(narrow.status()).as("within the client's reach: %s", narrow).isEqualTo(201);
    }

    @Test
    void theMasterRealmsAdminMayWiden() {
        realm.clientAttributes("other", Map.of("refresh.guard.reuse.action", "revoke-all-sessions", "refresh.guard.notify.user", "true"));
        assertThat(realm.admin.client(realm.name, realm.clientUuids.get("other")).get("attributes").get("refresh.guard.notify.user")
                .asText()).isEqualTo("true");
    }

    @Test
    void aValueARealmAdminSetStaysAndOthersMayStillEditTheClient() {
        String rita = admins.token("rita");
        Reply byRealmAdmin = admins.call(rita, "POST", "/clients", client(Map.of("refresh.guard.reuse.action", "revoke-all-sessions")));
        assertThat(byRealmAdmin.status()).as("manage-realm may: %s", byRealmAdmin).isEqualTo(201);
        String uuid = byRealmAdmin.headers().firstValue("Location").orElseThrow().replaceAll(".*/", "");

        String carl = admins.token("carl");
        ObjectNode rep = (ObjectNode) admins.call(carl, "GET", "/clients/" + uuid, null).json();
        rep.put("description", "edited by carl");
        Reply unchanged = admins.call(carl, "PUT", "/clients/" + uuid, rep);
        assertThat(unchanged.status()).as("the wide value is unchanged: %s", unchanged).isEqualTo(204);
        assertThat(realm.admin.client(realm.name, uuid).get("attributes").get("refresh.guard.reuse.action").asText())
                .isEqualTo("revoke-all-sessions");

        ((ObjectNode) rep.get("attributes")).put("refresh.guard.notify.user", "true");
        Reply widened = admins.call(carl, "PUT", "/clients/" + uuid, rep);
        assertThat(widened.status()).as("%s", widened).isEqualTo(400);
        assertThat(widened.text("error_description")).contains(NOTIFY).doesNotContain(ALL_SESSIONS);
        assertThat(realm.admin.client(realm.name, uuid).get("attributes").has("refresh.guard.notify.user")).isFalse();
    }

    @Test
    void dynamicClientRegistrationCannotWiden() {
        String initial = realm.admin.ok("POST", "/" + realm.name + "/clients-initial-access", Map.of("count", 5, "expiration", 600))
                .text("token");
        String url = server.baseUrl() + "/realms/" + realm.name + "/clients-registrations/default";
        Http http = new Http();
        Reply wide = http.json("POST", url, initial, client(Map.of("refresh.guard.reuse.action", "revoke-all-sessions")));
        assertThat(wide.status()).as("%s", wide).isEqualTo(400);
        assertThat(wide.body()).contains(ALL_SESSIONS);
        Reply notify = http.json("POST", url, initial, client(Map.of("refresh.guard.notify.user", "true")));
        assertThat(notify.status()).as("%s", notify).isEqualTo(400);
        assertThat(notify.body()).contains(NOTIFY);
        Reply narrow = http.json("POST", url, initial, client(Map.of("refresh.guard.reuse.action", "revoke-family")));
        assertThat(narrow.status()).as("%s", narrow).isEqualTo(201);
    }

    private static Map<String, Object> client(Map<String, String> attributes) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("clientId", "reach-" + UUID.randomUUID().toString().substring(0, 8));
        c.put("publicClient", false);
        c.put("secret", TestRealm.API_SECRET);
        c.put("redirectUris", List.of(TestRealm.REDIRECT));
        c.put("attributes", attributes);
        return c;
    }
}
