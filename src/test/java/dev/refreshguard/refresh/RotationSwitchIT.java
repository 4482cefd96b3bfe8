package dev.refreshguard.refresh;

import static dev.refreshguard.refresh.AdoptionIT.ok;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.FamilyEvents;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.TestRealm;

/**
 * Issue 23, point 3: a client's {@code refresh.guard.rotation} switched from {@code off} to {@code on}. While rotation is
 * off every token of a family keeps working, but the ledger counts each token it issues; once rotation is on, the
 * token issued last wins the first rotation and every older one is reuse — never whichever old token comes first.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RotationSwitchIT {

    private KeycloakServer server;

    @BeforeAll
    void server(KeycloakServer server) {
        this.server = server;
    }

    @Test
    void theNewestTokenIssuedWhileOffWinsTheFirstRotation() {
        TestRealm realm = TestRealm.guarded(server, "rot-switch", Map.of());
        realm.clientAttributes("api", Map.of("refresh.guard.rotation", "off"));
        Oidc api = realm.oidc("api");
        String t0 = ok(api.password("alice", "alice")).text("refresh_token");
        String familyId = Oidc.claims(t0).get("rg_fid").asText();
        assertThat(Oidc.claims(t0).get("rg_gen").asInt()).isZero();
        // Rotation off: the first token stays usable, and each token issued is counted as the family's newest.
        String t1 = ok(api.refresh(t0)).text("refresh_token");
        String t2 = ok(api.refresh(t0)).text("refresh_token");
        String t3 = ok(api.refresh(t1)).text("refresh_token");
        assertThat(List.of(t1, t2, t3).stream().map(t -> Oidc.claims(t).get("rg_gen").asInt()).toList()).containsExactly(1, 2, 3);
        assertThat(Oidc.claims(t3).get("rg_fid").asText()).isEqualTo(familyId);
        assertThat(family(realm).get("generation").asInt()).isEqualTo(3);
        assertThat(realm.admin.events(realm.name, "REFRESH_TOKEN_ERROR")).as("nothing refused while off").isEmpty();

        realm.clientAttributes("api", Map.of("refresh.guard.rotation", "on"));
        String t4 = ok(api.refresh(t3)).text("refresh_token");
        assertThat(Oidc.claims(t4).get("rg_gen").asInt()).isEqualTo(4);
        String t5 = ok(api.refresh(t4)).text("refresh_token");

        // An older token of the "off" period is reuse: the client's action (revoke-family) ends the family.
        Oidc.expectReuseDetected(api.refresh(t2));
        JsonNode reused = FamilyEvents.only(realm.admin, realm.name, "refresh_token_reused", familyId);
        assertThat(reused.get("clientId").asText()).isEqualTo("api");
        assertThat(reused.get("details").get("generation").asText()).isEqualTo("2");
        assertThat(reused.get("details").get("latest_generation").asText()).isEqualTo("5");
        assertThat(reused.get("details").get("action").asText()).isEqualTo("revoke-family");
        for (String spent : List.of(t5, t0, t1, t3)) {
            Oidc.expectFamilyRevokedAfterReuse(api.refresh(spent));
        }
        assertThat(family(realm).get("state").asText()).isEqualTo("REVOKED");
    }

    @Test
    void anOlderTokenPresentedFirstAfterTheSwitchIsReuseNotAWin() {
        TestRealm realm = TestRealm.guarded(server, "rot-switch-old", Map.of());
        realm.clientAttributes("api", Map.of("refresh.guard.rotation", "off", "refresh.guard.reuse.action", "alert-only"));
        Oidc api = realm.oidc("api");
        String t0 = ok(api.password("alice", "alice")).text("refresh_token");
        String familyId = Oidc.claims(t0).get("rg_fid").asText();
        String t1 = ok(api.refresh(t0)).text("refresh_token");
        String t2 = ok(api.refresh(t1)).text("refresh_token");

        realm.clientAttributes("api", Map.of("refresh.guard.rotation", "on"));
        // The first token presented after the switch is an old one: it does not win, it is reuse (alert-only: served
        // unrotated, its successor never becomes the newest).
        String servedToOld = ok(api.refresh(t0)).text("refresh_token");
        assertThat(Oidc.claims(servedToOld).get("rg_gen").asInt()).isZero();
        JsonNode alert = FamilyEvents.only(realm.admin, realm.name, "refresh_token_reused", familyId);
        assertThat(alert.get("details").get("generation").asText()).isEqualTo("0");
        assertThat(alert.get("details").get("latest_generation").asText()).isEqualTo("2");
        assertThat(alert.get("details").get("action").asText()).isEqualTo("alert-only");
        assertThat(family(realm).get("generation").asInt()).as("the old token moved nothing").isEqualTo(2);

        // The newest of the "off" period still wins the first rotation.
        String t3 = ok(api.refresh(t2)).text("refresh_token");
        assertThat(Oidc.claims(t3).get("rg_gen").asInt()).isEqualTo(3);
        assertThat(family(realm).get("state").asText()).isEqualTo("ACTIVE");
    }

    /** Rotation off and no successor built (use.refresh.tokens=false): every token of the live family is still served. */
    @Test
    void withRotationOffAndNoSuccessorEveryTokenOfTheFamilyIsServed() {
        TestRealm realm = TestRealm.guarded(server, "rot-off-no-rt", Map.of());
        realm.clientAttributes("api", Map.of("refresh.guard.rotation", "off"));
        Oidc api = realm.oidc("api");
        String t0 = ok(api.password("alice", "alice")).text("refresh_token");
        String t1 = ok(api.refresh(t0)).text("refresh_token");
        realm.clientAttributes("api", Map.of("use.refresh.tokens", "false"));
        for (String token : List.of(t0, t1, t0)) {
            Reply served = ok(api.refresh(token));
            assertThat(served.json().has("refresh_token")).as("no successor: %s", served).isFalse();
        }
        assertThat(realm.admin.events(realm.name, "REFRESH_TOKEN_ERROR")).isEmpty();
        assertThat(family(realm).get("generation").asInt()).as("nothing issued, nothing counted").isEqualTo(1);
    }

    private static JsonNode family(TestRealm realm) {
        JsonNode families = realm.admin.ok("GET", "/" + realm.name + "/refresh-guard/families?user_id=" + realm.userIds.get("alice"),
                null).json();
        assertThat(families).as("families of alice: %s", families).hasSize(1);
        return families.get(0);
    }
}
