package dev.refreshguard.family;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.Http;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.TestRealm;

/**
 * A logout ends the session's families at once (state ENDED in the families endpoint), and a later session-wide
 * revocation touches only the families that could still be used.
 */
@ExtendWith(RealServer.class)
class SessionEndIT {

    @Test
    void aLogoutEndsTheSessionsFamiliesAndRevokeAllSessionsLeavesThemEnded(KeycloakServer server) {
        TestRealm realm = TestRealm.guarded(server, "session-end", Map.of("refresh.guard.reuse.action", "revoke-all-sessions"));
        String userId = realm.userIds.get("alice");
        Reply first = realm.spa().password("alice", "alice");
        Reply firstOther = realm.oidc("other").password("alice", "alice");
        Reply second = realm.spa().password("alice", "alice");
        String endedSpa = familyOf(first);
        String live = familyOf(second);

        Reply logout = new Http().postForm(server.baseUrl() + "/realms/" + realm.name + "/protocol/openid-connect/logout",
                Map.of("client_id", "spa", "refresh_token", first.text("refresh_token")));
        assertThat(logout.status()).as("%s", logout).isEqualTo(204);

        JsonNode ended = family(realm, userId, endedSpa);
        assertThat(ended.get("state").asText()).isEqualTo("ENDED");
        long endedAt = ended.get("endedAt").asLong();
        assertThat(ended.hasNonNull("revokedAt")).isFalse();
        // The family of another client in another session is untouched.
        assertThat(family(realm, userId, familyOf(firstOther)).get("state").asText()).isEqualTo("ACTIVE");
        assertThat(family(realm, userId, live).get("state").asText()).isEqualTo("ACTIVE");
        // An admin's revoke of the ended family says what it is and changes nothing.
        JsonNode revokeEnded = realm.admin.ok("POST", "/" + realm.name + "/refresh-guard/families/" + endedSpa + "/revoke", null).json();
        assertThat(revokeEnded.get("state").asText()).isEqualTo("ENDED");
        assertThat(revokeEnded.get("familiesRevoked").asInt()).isZero();
        assertThat(revokeEnded.get("clientSessionsEnded").asInt()).isZero();
        assertThat(family(realm, userId, endedSpa).get("endedAt").asLong()).isEqualTo(endedAt);

        // Reuse in the live session: revoke-all-sessions revokes what is live, and leaves the ended family as it was.
        Reply rotated = realm.spa().refresh(second.text("refresh_token"));
        assertThat(rotated.status()).isEqualTo(200);
        Oidc.expectReuseDetected(realm.spa().refresh(second.text("refresh_token")));

        assertThat(family(realm, userId, live).get("state").asText()).isEqualTo("REVOKED");
        assertThat(family(realm, userId, familyOf(firstOther)).get("state").asText()).isEqualTo("REVOKED");
        JsonNode stillEnded = family(realm, userId, endedSpa);
        assertThat(stillEnded.get("state").asText()).isEqualTo("ENDED");
        assertThat(stillEnded.get("endedAt").asLong()).isEqualTo(endedAt);
        assertThat(stillEnded.hasNonNull("revokedReason")).isFalse();
        // The ended family's token is refused as Keycloak refuses a token of an ended session, in Keycloak's words.
        Oidc.expectInvalidGrant(realm.spa().refresh(first.text("refresh_token")), "Session not active");
    }

    private static String familyOf(Reply login) {
        assertThat(login.status()).as("%s", login).isEqualTo(200);
        return Oidc.claims(login.text("refresh_token")).get("rg_fid").asText();
    }

    private static JsonNode family(TestRealm realm, String userId, String familyId) {
        JsonNode families = realm.admin.ok("GET", "/" + realm.name + "/refresh-guard/families?user_id=" + userId, null).json();
        for (JsonNode f : families) {
            if (familyId.equals(f.get("id").asText())) {
                return f;
            }
        }
        throw new AssertionError("family " + familyId + " not in " + families);
    }
}
