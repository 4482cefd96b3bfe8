package dev.refreshguard.refresh;

import static dev.refreshguard.refresh.AdoptionIT.ok;
import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
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
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.TestRealm;
import dev.refreshguard.policy.Protection;

/** Protection switched on, off and on again: nothing rotated away in any period comes back. */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ToggleIT {

    private KeycloakServer server;

    @BeforeAll
    void server(KeycloakServer server) {
        this.server = server;
    }

    @Test
    void onOffOnRefusesEveryTokenRotatedAwayInAnyPeriodAndKeepsTheNewest() {
        TestRealm realm = TestRealm.guarded(server, "toggle", Map.of());
        Oidc spa = realm.spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        String r1 = ok(spa.refresh(r0)).text("refresh_token");          // r0 rotated away while on
        Switches.awaitRemembered(realm);
        Switches.protect(realm, false);
        Reply replayWhileOff = spa.refresh(r0);                           // stock: served
        assertThat(replayWhileOff.status()).as("stock behaviour while off: %s", replayWhileOff).isEqualTo(200);
        String r2 = ok(spa.refresh(r1)).text("refresh_token");           // r1 rotated away while off
        assertThat(realm.admin.events(realm.name, "REFRESH_TOKEN_ERROR")).as("no refusals, no alerts while off").isEmpty();

        Switches.protect(realm, true);
        String r3 = ok(spa.refresh(r2)).text("refresh_token");           // r2 rotated away after
        assertThat(Oidc.claims(r3).get("rg_gen").asInt()).isEqualTo(3);
        String r4 = ok(spa.refresh(r3)).text("refresh_token");           // the newest keeps working

        // The first spent token presented is reuse, which revokes the family: every later one, the newest included,
        // is refused as a token of a family revoked after reuse.
        Oidc.expectReuseDetected(spa.refresh(replayWhileOff.text("refresh_token")));
        for (String spent : List.of(r2, r1, r0, r4)) {
            Oidc.expectFamilyRevokedAfterReuse(spa.refresh(spent));
        }
        FamilyEvents.only(realm.admin, realm.name, "refresh_token_reused");
    }

    @Test
    void eachSpentTokenIsReuseOnItsOwnAfterOnOffOn() {
        // alert-only: nothing is revoked, so each spent token's refusal is its own verdict, not a side effect.
        TestRealm realm = TestRealm.guarded(server, "toggle-each", Map.of());
        realm.clientAttributes("spa", Map.of("refresh.guard.reuse.action", "alert-only"));
        Oidc spa = realm.spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        String r1 = ok(spa.refresh(r0)).text("refresh_token");
        Switches.awaitRemembered(realm);
        Switches.protect(realm, false);
        String servedWhileOff = ok(spa.refresh(r0)).text("refresh_token");
        String r2 = ok(spa.refresh(r1)).text("refresh_token");
        Switches.protect(realm, true);
        String r3 = ok(spa.refresh(r2)).text("refresh_token");

        // All four are reuses of one family: one incident, whose 1st, 2nd and 4th reuse raise a stored event (issue 26).
        int reuses = 0;
        int alerts = 0;
        for (String spent : List.of(r0, servedWhileOff, r1, r2)) {
            Reply served = ok(spa.refresh(spent));
            reuses++;
            alerts += Integer.bitCount(reuses) == 1 ? 1 : 0;
            awaitAlerts(realm, alerts);
            assertThat(Oidc.claims(served.text("refresh_token")).get("rg_gen").asInt())
                    .isEqualTo(Oidc.claims(spent).get("rg_gen").asInt());
        }
        ok(spa.refresh(r3));
        awaitAlerts(realm, alerts);
    }

    @Test
    void whileOffClientsSeeStockTokenResponsesWithoutRefreshGuardLifetimes() {
        TestRealm stock = TestRealm.stock(server, "toggle-stock");
        TestRealm realm = TestRealm.guarded(server, "toggle-fields", Map.of());
        realm.clientAttributes("spa", Map.of("refresh.guard.idle.seconds", "60"));
        String r0 = ok(realm.spa().password("alice", "alice")).text("refresh_token");
        Reply guarded = ok(realm.spa().refresh(r0));
        assertThat(guarded.json().get("refresh_expires_in").asLong()).isLessThanOrEqualTo(60);

        Switches.awaitRemembered(realm);
        Switches.protect(realm, false);
        Reply off = ok(realm.spa().refresh(guarded.text("refresh_token")));
        Reply stockReply = ok(stock.spa().refresh(ok(stock.spa().password("alice", "alice")).text("refresh_token")));
        assertThat(fields(off.json())).isEqualTo(fields(stockReply.json()));
        assertThat(off.json().get("refresh_expires_in").asLong())
                .as("Keycloak's own idle limit, not refresh-guard's").isGreaterThan(60)
                .isBetween(stockReply.json().get("refresh_expires_in").asLong() - 2, stockReply.json().get("refresh_expires_in").asLong() + 2);
    }

    @Test
    void aRealmNeverProtectedKeepsStockTokensAndNoLedgerRows() throws SQLException {
        TestRealm stock = TestRealm.stock(server, "never");
        Oidc spa = stock.spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        String r1 = ok(spa.refresh(r0)).text("refresh_token");
        assertThat(spa.refresh(r0).status()).as("stock Keycloak accepts a reused token").isEqualTo(200);
        assertThat(Oidc.claims(r1).has("rg_fid")).isFalse();
        assertThat(Switches.families(stock)).isEmpty();
        JsonNode attributes = stock.admin.ok("GET", "/" + stock.name, null).json().path("attributes");
        assertThat(attributes.has(Protection.SINCE)).isFalse();
    }

    /** Exactly {@code count} reuse alerts, and no more within a settle window. */
    private static void awaitAlerts(TestRealm realm, int count) {
        Await.exactly(count, Duration.ofSeconds(10), "reuse alerts",
                () -> realm.admin.events(realm.name, "REFRESH_TOKEN_ERROR", "refresh_token_reused"));
    }

    private static List<String> fields(JsonNode json) {
        List<String> names = new ArrayList<>();
        for (Iterator<String> it = json.fieldNames(); it.hasNext(); ) {
            names.add(it.next());
        }
        names.sort(null);
        return names;
    }
}
