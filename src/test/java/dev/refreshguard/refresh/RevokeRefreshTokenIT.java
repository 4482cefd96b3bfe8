package dev.refreshguard.refresh;

import static dev.refreshguard.harness.Oidc.expectFamilyRevokedAfterReuse;
import static dev.refreshguard.harness.Oidc.expectKeycloakReuseExceeded;
import static dev.refreshguard.harness.Oidc.expectReuseDetected;
import static dev.refreshguard.refresh.AdoptionIT.event;
import static dev.refreshguard.refresh.AdoptionIT.ok;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.TestRealm;

/**
 * Keycloak's own "Revoke Refresh Token" on: in a protected realm refresh-guard's stricter check takes its place,
 * with alert, action and grace; a realm that is not protected keeps Keycloak's check.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RevokeRefreshTokenIT {

    private KeycloakServer server;

    @BeforeAll
    void server(KeycloakServer server) {
        this.server = server;
    }

    private static void revokeRefreshToken(TestRealm realm, int maxReuse) {
        realm.admin.ok("PUT", "/" + realm.name, Map.of("revokeRefreshToken", true, "refreshTokenMaxReuse", maxReuse));
    }

    @Test
    void reuseIsDetectedAndAlertedByRefreshGuard() {
        TestRealm realm = TestRealm.guarded(server, "kc-revoke", Map.of());
        revokeRefreshToken(realm, 0);
        Oidc spa = realm.spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        String r1 = ok(spa.refresh(r0)).text("refresh_token");
        expectReuseDetected(spa.refresh(r0));
        assertThat(event(realm, "refresh_token_reused").get("details").get("family_id").asText())
                .isEqualTo(Oidc.claims(r1).get("rg_fid").asText());
        expectFamilyRevokedAfterReuse(spa.refresh(r1));
    }

    @Test
    void evenAGenerousReuseCountGivesNoReuseInAProtectedRealm() {
        TestRealm realm = TestRealm.guarded(server, "kc-revoke-3", Map.of());
        revokeRefreshToken(realm, 3);
        Oidc spa = realm.spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        ok(spa.refresh(r0));
        expectReuseDetected(spa.refresh(r0));
        event(realm, "refresh_token_reused");
    }

    @Test
    void theGraceWindowWorks() {
        TestRealm realm = TestRealm.guarded(server, "kc-revoke-grace", Map.of());
        realm.clientAttributes("spa", Map.of("refresh.guard.grace.seconds", "60"));
        revokeRefreshToken(realm, 0);
        Oidc spa = realm.spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        String r1 = ok(spa.refresh(r0)).text("refresh_token");
        assertThat(ok(spa.refresh(r0)).text("refresh_token")).isEqualTo(r1);
        ok(spa.refresh(r1));
        expectReuseDetected(spa.refresh(r0));
        event(realm, "refresh_token_reused");
    }

    @Test
    void anUnprotectedRealmKeepsKeycloaksOwnCheck() {
        TestRealm realm = TestRealm.stock(server, "kc-revoke-stock");
        revokeRefreshToken(realm, 0);
        Oidc spa = realm.spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        ok(spa.refresh(r0));
        // Keycloak's own refusal, word for word: the token is the session's current one, used once more than allowed.
        expectKeycloakReuseExceeded(spa.refresh(r0));
    }
}
