package dev.refreshguard.refresh;

import static dev.refreshguard.harness.Oidc.expectFamilyExpired;
import static dev.refreshguard.harness.Oidc.expectFamilyRevokedAfterReuse;
import static dev.refreshguard.harness.Oidc.expectReuseDetected;
import static dev.refreshguard.harness.Oidc.expectStale;
import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.FamilyEvents;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.Racers;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.TestRealm;

/** Switching protection on in a live realm: tokens issued before it are adopted into families at their first refresh. */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdoptionIT {

    private static final String OFFLINE = "openid offline_access";
    private KeycloakServer server;

    @BeforeAll
    void server(KeycloakServer server) {
        this.server = server;
    }

    /** A realm that issued tokens before it was protected: the spa's policy is set first, protection is switched on later. */
    private TestRealm unprotected(String prefix, Map<String, String> spaPolicy) {
        TestRealm realm = TestRealm.stock(server, prefix);
        if (!spaPolicy.isEmpty()) {
            realm.clientAttributes("spa", spaPolicy);
        }
        return realm;
    }

    @Test
    void anOnlineTokenFromBeforeProtectionIsAdoptedAndItsReplayIsReuse() {
        TestRealm realm = unprotected("adopt-online", Map.of());
        assertAdoptedThenReplayIsReuse(realm, ok(realm.spa().password("alice", "alice")).text("refresh_token"), "Refresh");
    }

    @Test
    void anOfflineTokenFromBeforeProtectionIsAdoptedAndItsReplayIsReuse() {
        TestRealm realm = unprotected("adopt-offline", Map.of());
        assertAdoptedThenReplayIsReuse(realm,
                ok(realm.spa().password("alice", "alice", "scope", OFFLINE)).text("refresh_token"), "Offline");
    }

    private void assertAdoptedThenReplayIsReuse(TestRealm realm, String old, String type) {
        Oidc spa = realm.spa();
        assertThat(Oidc.claims(old).has("rg_fid")).as("issued before protection").isFalse();
        assertThat(Oidc.claims(old).get("typ").asText()).isEqualTo(type);
        Switches.protect(realm, true);

        String adopted = ok(spa.refresh(old)).text("refresh_token");
        JsonNode claims = Oidc.claims(adopted);
        String familyId = claims.get("rg_fid").asText();
        assertThat(familyId).startsWith("a-").hasSize(36);
        assertThat(claims.get("rg_gen").asInt()).isEqualTo(1);

        expectReuseDetected(spa.refresh(old));
        JsonNode alert = event(realm, "refresh_token_reused");
        assertThat(alert.get("userId").asText()).isEqualTo(realm.userIds.get("alice"));
        assertThat(alert.get("details").get("family_id").asText()).isEqualTo(familyId);
        assertThat(alert.get("details").get("generation").asText()).isEqualTo("0");
        assertThat(alert.get("details").get("latest_generation").asText()).isEqualTo("1");
        assertThat(alert.get("details").get("action").asText()).isEqualTo("revoke-family");

        // revoke-family: the adopted family's newest token is dead too, and says so with the user named.
        expectFamilyRevokedAfterReuse(spa.refresh(adopted));
        JsonNode revoked = event(realm, "refresh_token_family_revoked");
        assertThat(revoked.get("userId").asText()).isEqualTo(realm.userIds.get("alice"));
        assertThat(revoked.get("details").get("family_id").asText()).isEqualTo(familyId);
    }

    @Test
    void insideTheGraceWindowTheReplayOfAnAdoptedTokenGetsTheSameSuccessor() {
        TestRealm realm = unprotected("adopt-grace", Map.of("refresh.guard.grace.seconds", "60"));
        Oidc spa = realm.spa();
        String old = ok(spa.password("alice", "alice", "scope", OFFLINE)).text("refresh_token");
        Switches.protect(realm, true);

        Reply first = ok(spa.refresh(old));
        Reply replay = ok(spa.refresh(old));
        assertThat(replay.text("refresh_token")).isEqualTo(first.text("refresh_token"));
        assertThat(replay.text("access_token")).isNotEqualTo(first.text("access_token"));

        String next = ok(spa.refresh(first.text("refresh_token"))).text("refresh_token");
        assertThat(Oidc.claims(next).get("rg_gen").asInt()).isEqualTo(2);
        expectReuseDetected(spa.refresh(old));
    }

    @Test
    void alertOnlyAdoptionAlertsOnTheReplayAndRevokesNothing() {
        TestRealm realm = unprotected("adopt-alert", Map.of("refresh.guard.reuse.action", "alert-only"));
        Oidc spa = realm.spa();
        String old = ok(spa.password("alice", "alice")).text("refresh_token");
        Switches.protect(realm, true);
        String adopted = ok(spa.refresh(old)).text("refresh_token");
        Reply served = ok(spa.refresh(old));
        assertThat(Oidc.claims(served.text("refresh_token")).get("rg_gen").asInt()).as("served as if rotation were off").isZero();
        assertThat(event(realm, "refresh_token_reused").get("details").get("action").asText()).isEqualTo("alert-only");
        ok(spa.refresh(adopted));
    }

    @Test
    void concurrentFirstPresentationsOfOneOldTokenHaveExactlyOneWinner() throws SQLException {
        TestRealm realm = unprotected("adopt-race", Map.of());
        Oidc spa = realm.spa();
        String old = ok(spa.password("alice", "alice", "scope", OFFLINE)).text("refresh_token");
        Switches.protect(realm, true);

        List<Reply> replies = Racers.race(20, Duration.ofMinutes(2), i -> spa.refresh(old));
        assertThat(replies.stream().filter(r -> r.status() == 200)).hasSize(1);
        Oidc.expectOneReuseThenRevoked(replies.stream().filter(r -> r.status() != 200).toList());
        // One adopted family, never one per presentation (it is revoked by the losers' reuse).
        assertThat(Switches.families(realm)).hasSize(1).allSatisfy(f -> assertThat(f).startsWith("a-"));
    }

    @Test
    void aTokenRotatedAwayBeforeProtectionIsRefusedAndItsSuccessorAdopted() {
        TestRealm realm = unprotected("adopt-stale", Map.of());
        Oidc spa = realm.spa();
        String older = ok(spa.password("alice", "alice")).text("refresh_token");
        String newer = ok(spa.refresh(older)).text("refresh_token");
        assertThat(Oidc.claims(newer).get("iat").asLong()).isGreaterThanOrEqualTo(Oidc.claims(older).get("iat").asLong());
        // The stale rule needs the newer token to be stamped a later second than the older one.
        Await.pastEpochSecond(Oidc.claims(older).get("iat").asLong());
        newer = ok(spa.refresh(newer)).text("refresh_token");
        Switches.protect(realm, true);

        expectStale(spa.refresh(older));
        assertThat(event(realm, "refresh_token_stale").get("userId").asText()).isEqualTo(realm.userIds.get("alice"));

        String adopted = ok(spa.refresh(newer)).text("refresh_token");
        assertThat(Oidc.claims(adopted).get("rg_fid").asText()).startsWith("a-");
        ok(spa.refresh(adopted));
    }

    @Test
    void anExpiredFamilyTokenIsRefusedWithTheUserNamed() {
        TestRealm realm = TestRealm.guarded(server, "expired-user", Map.of());
        Oidc spa = realm.spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        // Lowered after issue, so that refresh-guard's check (not the token's own exp) refuses it.
        realm.clientAttributes("spa", Map.of("refresh.guard.idle.seconds", "1"));
        Await.pastEpochSecond(Oidc.claims(r0).get("iat").asLong() + 1);
        expectFamilyExpired(spa.refresh(r0));
        JsonNode event = event(realm, "refresh_token_expired");
        assertThat(event.get("userId").asText()).isEqualTo(realm.userIds.get("alice"));
    }

    static Reply ok(Reply reply) {
        assertThat(reply.status()).as("%s", reply).isEqualTo(200);
        return reply;
    }

    /** The one event with this error in the realm, after a settle window in which no second one arrived. */
    static JsonNode event(TestRealm realm, String error) {
        return FamilyEvents.only(realm.admin, realm.name, error);
    }
}
