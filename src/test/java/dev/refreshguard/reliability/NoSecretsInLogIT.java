package dev.refreshguard.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.Figures;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.Jwt;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.TestRealm;
import dev.refreshguard.harness.Witness;
import dev.refreshguard.policy.Attribute;

/**
 * Every path on which refresh-guard logs — reuse alerts under each action, refusals of revoked, expired and unknown
 * families, grace replays, RFC 7009 revocations, forged tokens — runs once; then the server's log holds none of the
 * tokens this class was given, and no JWT at all. Other classes check their own tokens the same way when they end, so
 * the check does not depend on the order classes run in; the JWT scan covers whatever ran before.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NoSecretsInLogIT {

    private final Witness witness = new Witness();
    private KeycloakServer server;
    private TestRealm realm;

    @BeforeAll
    void everyPathThatLogs(KeycloakServer server) {
        this.server = server;
        realm = TestRealm.guarded(server, "nosecrets", Map.of());
        realm.addPublicClient("alerting");
        realm.clientAttributes("alerting", Map.of(Attribute.REUSE_ACTION.key(), "alert-only"));
        realm.addPublicClient("session");
        realm.clientAttributes("session", Map.of(Attribute.REUSE_ACTION.key(), "revoke-user-session"));
        realm.addPublicClient("graced");
        realm.clientAttributes("graced", Map.of(Attribute.GRACE_SECONDS.key(), "60"));
        realm.addPublicClient("short");
        realm.clientAttributes("short", Map.of(Attribute.IDLE_SECONDS.key(), "2"));

        // revoke-family: reuse, then the revoked family's newest token.
        reuseThenNewest(realm.spa(), "alice");
        // alert-only: the reuse is served and alerted.
        reuseThenNewest(realm.oidc("alerting"), "alice");
        // revoke-user-session.
        reuseThenNewest(realm.oidc("session"), "bob");
        // grace replay: the same token twice inside the window.
        Oidc graced = realm.oidc("graced");
        String g0 = saw(graced.password("alice", "alice")).text("refresh_token");
        saw(graced.refresh(g0));
        saw(graced.refresh(g0));
        // expired family (idle limit).
        String s0 = saw(realm.oidc("short").password("alice", "alice")).text("refresh_token");
        Await.pastEpochSecond(Oidc.claims(s0).get("exp").asLong());
        saw(realm.oidc("short").refresh(s0));
        // RFC 7009 revocation, then a refresh of the revoked family; introspection of its access token.
        Oidc api = realm.oidc("api");
        Reply login = saw(api.password("bob", "bob"));
        saw(api.revoke(login.text("refresh_token"), "refresh_token"));
        saw(api.refresh(login.text("refresh_token")));
        saw(api.introspect(login.text("access_token")));
        // Forged tokens that still carry a real signature segment.
        String real = saw(realm.spa().password("bob", "bob")).text("refresh_token");
        for (String forged : List.of(Jwt.unsigned(real, "none", true), Jwt.editPayload(real, p -> p.put("rg_fid", "forged")),
                Jwt.editPayload(real, p -> p.put("rg_gen", 7)))) {
            witness.token(forged);
            saw(realm.spa().refresh(forged));
            saw(realm.spa().revoke(forged, "refresh_token"));
        }
        // A token exchange refused.
        saw(api.exchange(Jwt.unsigned(login.text("access_token"), "none", true)));
    }

    @Test
    void theServerLogHoldsNoTokenOfThisClassAndNoJwtAtAll() {
        Witness.Leaks leaks = witness.leaksIn(List.of(server.logFile()));
        Map<String, Object> details = witness.figures(leaks);
        Figures.record("logs", new Figures.Row("No token in the server log after every logging path (NoSecretsInLogIT)",
                witness.answers(), 0, 1, 0, witness.fiveXx(), "n/a: " + leaks.found().size() + " tokens found in "
                + leaks.logChars() / 1024 + " KiB of log", details));
        assertThat(leaks.tokensChecked()).as("tokens this class received").isGreaterThan(10);
        witness.assertNoFiveXxAndNoLeaks(leaks);
    }

    private void reuseThenNewest(Oidc client, String user) {
        String r0 = saw(client.password(user, user)).text("refresh_token");
        Reply r1 = saw(client.refresh(r0));
        saw(client.refresh(r0));
        if (r1.text("refresh_token") != null) {
            saw(client.refresh(r1.text("refresh_token")));
        }
    }

    private Reply saw(Reply reply) {
        return witness.saw(reply);
    }
}
