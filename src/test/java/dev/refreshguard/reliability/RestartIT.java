package dev.refreshguard.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.DistributionServer;
import dev.refreshguard.harness.FamilyEvents;
import dev.refreshguard.harness.Figures;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.TestRealm;
import dev.refreshguard.harness.Witness;

/**
 * Family state lives in Keycloak's database, so it survives a restart of the (shared) server: three families are
 * set up, the server restarts once, then each family behaves as it did before.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RestartIT {

    private final Witness witness = new Witness();
    private KeycloakServer server;
    private TestRealm realm;
    private long restartedAtMillis;

    /** A: rotated once before the restart (gen 0 spent, gen 1 current). */
    private String aSpent;
    private String aCurrent;
    private String aFamily;
    /** B: revoked before the restart (its gen 0 was reused); its newest token. */
    private String bNewest;
    private String bFamily;
    /** C: live, another client of the same user as A; its newest token. */
    private String cNewest;
    /** D: an offline token issued before its realm was protected, adopted at its first refresh before the restart. */
    private TestRealm adoptRealm;
    private String dOld;
    private String dFamily;
    private int checks;

    @BeforeAll
    void familiesThenOneRestart(KeycloakServer server) {
        assumeTrue(server instanceof DistributionServer,
                "RestartIT skipped: restarting the server needs the distribution backend (-Dit.backend=distribution)");
        this.server = server;
        realm = TestRealm.guarded(server, "restart", Map.of());
        Oidc spa = realm.spa();

        String a0 = ok(spa.password("alice", "alice")).text("refresh_token");
        aCurrent = ok(spa.refresh(a0)).text("refresh_token");
        aSpent = a0;
        aFamily = Oidc.claims(a0).get("rg_fid").asText();

        String b0 = ok(spa.password("bob", "bob")).text("refresh_token");
        bNewest = ok(spa.refresh(b0)).text("refresh_token");
        bFamily = Oidc.claims(b0).get("rg_fid").asText();
        Oidc.expectReuseDetected(witness.saw(spa.refresh(b0)));
        // B is revoked before the restart
        Oidc.expectFamilyRevokedAfterReuse(witness.saw(spa.refresh(bNewest)));

        Oidc other = realm.oidc("other");
        String c0 = ok(other.password("alice", "alice")).text("refresh_token");
        cNewest = ok(other.refresh(c0)).text("refresh_token");

        adoptRealm = TestRealm.stock(server, "restart-adopt");
        dOld = ok(adoptRealm.spa().password("alice", "alice", "scope", "openid offline_access")).text("refresh_token");
        adoptRealm.admin.ok("PUT", "/" + adoptRealm.name + "/events/config", Map.of("eventsEnabled", true,
                "eventsListeners", List.of("jboss-logging", "refresh-guard"), "enabledEventTypes", TestRealm.SAVED_EVENTS));
        dFamily = Oidc.claims(ok(adoptRealm.spa().refresh(dOld)).text("refresh_token")).get("rg_fid").asText();

        restartedAtMillis = System.currentTimeMillis();
        server.restart();
    }

    @Test
    void reuseOfATokenSpentBeforeTheRestartIsCaught() {
        // reuse after the restart
        Oidc.expectReuseDetected(check(realm.spa().refresh(aSpent)));
        JsonNode event = awaitEvent("refresh_token_reused", aFamily);
        assertThat(event.path("details").path("generation").asText()).isEqualTo("0");
        assertThat(event.path("details").path("latest_generation").asText()).isEqualTo("1");
        assertThat(event.path("userId").asText()).isEqualTo(realm.userIds.get("alice"));

        // The reuse revoked the family: its current token is refused from now on.
        Oidc.expectFamilyRevokedAfterReuse(check(realm.spa().refresh(aCurrent)));
        awaitEvent("refresh_token_family_revoked", aFamily);
    }

    @Test
    void anAdoptedTokenPresentedAgainAfterTheRestartIsReuse() {
        // the adopted token replayed after the restart
        Oidc.expectReuseDetected(check(adoptRealm.spa().refresh(dOld)));
        JsonNode event = FamilyEvents.await(adoptRealm.admin, adoptRealm.name, "refresh_token_reused", dFamily, restartedAtMillis);
        assertThat(event.path("details").path("generation").asText()).isEqualTo("0");
    }

    @Test
    void aFamilyRevokedBeforeTheRestartStaysRevoked() {
        // B's newest token after the restart
        Oidc.expectFamilyRevokedAfterReuse(check(realm.spa().refresh(bNewest)));
        awaitEvent("refresh_token_family_revoked", bFamily);
    }

    @Test
    void aLiveFamilyKeepsWorking() {
        Oidc other = realm.oidc("other");
        Reply first = check(other.refresh(cNewest));
        assertThat(first.status()).as("C after restart: %s", first).isEqualTo(200);
        assertThat(first.text("refresh_token")).isNotEqualTo(cNewest);
        assertThat(Oidc.claims(first.text("refresh_token")).get("rg_gen").asInt()).isEqualTo(2);
        assertThat(check(other.userinfo(first.text("access_token"))).status()).isEqualTo(200);
        Reply second = check(other.refresh(first.text("refresh_token")));
        assertThat(second.status()).as("C keeps rotating: %s", second).isEqualTo(200);
    }

    @AfterAll
    void figuresAndLogs() {
        if (server == null) {
            return;
        }
        Witness.Leaks leaks = witness.leaksIn(List.of(server.logFile()));
        Map<String, Object> details = witness.figures(leaks);
        details.put("families", 4);
        Figures.record("restart", new Figures.Row("Restart of a single server (RestartIT)", checks, 0, 1, 1,
                witness.fiveXx(), "no: revoked stayed revoked, reuse caught, live family works", details));
        witness.assertNoFiveXxAndNoLeaks(leaks);
    }

    private Reply ok(Reply reply) {
        return witness.ok(reply);
    }

    private Reply check(Reply reply) {
        checks++;
        return witness.saw(reply);
    }

    /** The REFRESH_TOKEN_ERROR event with this error for this family, raised after the restart. */
    private JsonNode awaitEvent(String error, String familyId) {
        return FamilyEvents.await(realm.admin, realm.name, error, familyId, restartedAtMillis);
    }
}
