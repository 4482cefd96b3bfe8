package dev.refreshguard.family;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.TestRealm;

/**
 * Deleting a user, a client or a realm through the admin REST API deletes its families in the same request (Keycloak's
 * model removal events), and nothing else's.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeletionIT {

    private KeycloakServer server;
    private FamilyRows rows;

    @BeforeAll
    void server(KeycloakServer server) {
        this.server = server;
        this.rows = new FamilyRows(server.jdbcUrl());
    }

    private static String login(TestRealm realm, String clientId, String user) {
        Reply login = realm.oidc(clientId).password(user, user);
        assertThat(login.status()).as("%s", login).isEqualTo(200);
        return Oidc.claims(login.text("refresh_token")).get("rg_fid").asText();
    }

    private String realmId(TestRealm realm) {
        return realm.admin.ok("GET", "/" + realm.name, null).text("id");
    }

    @Test
    void deletingAUserDeletesItsFamiliesAtOnce() {
        TestRealm realm = TestRealm.guarded(server, "deletion-user", Map.of());
        String carol = realm.addUser("carol");
        String spa = login(realm, "spa", "carol");
        String other = login(realm, "other", "carol");
        String alices = login(realm, "spa", "alice");
        assertThat(rows.count("USER_ID = ?", carol)).isEqualTo(2);

        realm.admin.ok("DELETE", "/" + realm.name + "/users/" + carol, null);

        // Right after the 204: no wait, the rows went with the user's transaction.
        assertThat(rows.count("USER_ID = ?", carol)).isZero();
        assertThat(rows.exists(spa)).isFalse();
        assertThat(rows.exists(other)).isFalse();
        assertThat(rows.exists(alices)).as("another user's family").isTrue();
    }

    @Test
    void deletingAClientDeletesItsFamiliesAtOnce() {
        TestRealm realm = TestRealm.guarded(server, "deletion-client", Map.of());
        String otherUuid = realm.clientUuids.get("other");
        String viaOther = login(realm, "other", "alice");
        String viaOther2 = login(realm, "other", "bob");
        String viaSpa = login(realm, "spa", "alice");
        assertThat(rows.count("CLIENT_ID = ?", otherUuid)).isEqualTo(2);

        realm.admin.ok("DELETE", "/" + realm.name + "/clients/" + otherUuid, null);

        assertThat(rows.count("CLIENT_ID = ?", otherUuid)).isZero();
        assertThat(rows.exists(viaOther)).isFalse();
        assertThat(rows.exists(viaOther2)).isFalse();
        assertThat(rows.exists(viaSpa)).as("the other client's family").isTrue();
        assertThat(realm.spa().refresh(realm.spa().password("bob", "bob").text("refresh_token")).status()).isEqualTo(200);
    }

    @Test
    void deletingARealmDeletesItsFamiliesAtOnce() {
        TestRealm doomed = TestRealm.guarded(server, "deletion-realm", Map.of());
        TestRealm kept = TestRealm.guarded(server, "deletion-kept", Map.of());
        String doomedId = realmId(doomed);
        login(doomed, "spa", "alice");
        login(doomed, "other", "bob");
        login(doomed, "api", "alice");
        String survivor = login(kept, "spa", "alice");
        assertThat(rows.count("REALM_ID = ?", doomedId)).isEqualTo(3);

        doomed.admin.ok("DELETE", "/" + doomed.name, null);

        assertThat(rows.count("REALM_ID = ?", doomedId)).isZero();
        assertThat(rows.exists(survivor)).as("another realm's family").isTrue();
    }
}
