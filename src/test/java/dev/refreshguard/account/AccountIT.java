package dev.refreshguard.account;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.CookieBrowser;
import dev.refreshguard.harness.Http;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Ledger;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.TestRealm;

/**
 * The user's own families (issue 26, point 4) over HTTP: the bearer API lists and revokes only the caller's live
 * families (another user's family: 404, nothing revoked; no token: 401), and the page is served to the SSO session
 * only, its revoke form refused without the page's anti-CSRF token.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AccountIT {

    private static final Pattern FORM = Pattern.compile("<form[^>]*action=\"([^\"]+)\"");
    private static final Pattern CSRF = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"");

    private KeycloakServer server;
    private final Http http = new Http();

    @BeforeAll
    void server(KeycloakServer server) {
        this.server = server;
    }

    @Test
    void theApiListsAndRevokesOnlyTheCallersOwnLiveFamilies() {
        TestRealm realm = TestRealm.guarded(server, "account-api", Map.of());
        Oidc spa = realm.spa();
        Oidc other = realm.oidc("other");
        Reply aliceSpa = ok(spa.password("alice", "alice"));
        Reply aliceRotated = ok(spa.refresh(aliceSpa.text("refresh_token")));
        Reply aliceOffline = ok(other.password("alice", "alice", "scope", "openid offline_access"));
        Reply bobSpa = ok(spa.password("bob", "bob"));
        String aliceSpaFamily = family(aliceSpa);
        String aliceOfflineFamily = family(aliceOffline);
        String bobFamily = family(bobSpa);
        String api = api(realm);
        String bearer = aliceRotated.text("access_token");

        // no token, a forged one, another realm's: 401, the same answer
        assertThat(http.get(api + "/families", null).status()).isEqualTo(401);
        assertThat(http.get(api + "/families", "not-a-token").status()).isEqualTo(401);
        Reply noAuthRevoke = http.json("POST", api + "/families/" + aliceSpaFamily + "/revoke", null, null);
        assertThat(noAuthRevoke.status()).isEqualTo(401);

        Reply listed = http.get(api + "/families", bearer);
        assertThat(listed.status()).as("%s", listed).isEqualTo(200);
        assertThat(listed.json()).hasSize(2);
        JsonNode spaRow = row(listed.json(), aliceSpaFamily);
        assertThat(spaRow.get("clientId").asText()).isEqualTo("spa");
        assertThat(spaRow.get("offline").asBoolean()).isFalse();
        assertThat(spaRow.get("created").asLong()).isEqualTo(Oidc.claims(aliceSpa.text("refresh_token")).get("iat").asLong());
        assertThat(spaRow.get("lastRotation").asLong()).isEqualTo(Oidc.claims(aliceRotated.text("refresh_token")).get("iat").asLong());
        assertThat(spaRow.get("lastIp").asText()).isNotBlank();
        assertThat(spaRow.get("started").asText()).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC");
        JsonNode offlineRow = row(listed.json(), aliceOfflineFamily);
        assertThat(offlineRow.get("clientId").asText()).isEqualTo("other");
        assertThat(offlineRow.get("offline").asBoolean()).isTrue();
        assertThat(listed.body()).doesNotContain(bobFamily);

        // bob's family through alice's token, an unknown id, an oversized one: 404, nothing revoked
        for (String id : List.of(bobFamily, "00000000-0000-0000-0000-000000000000", "x".repeat(5000))) {
            Reply foreign = http.json("POST", api + "/families/" + id + "/revoke", bearer, null);
            assertThat(foreign.status()).as("%s", foreign).isEqualTo(404);
        }
        assertThat(ok(spa.refresh(bobSpa.text("refresh_token")))).isNotNull();

        Reply revoked = http.json("POST", api + "/families/" + aliceSpaFamily + "/revoke", bearer, null);
        assertThat(revoked.status()).as("%s", revoked).isEqualTo(200);
        assertThat(revoked.json().get("id").asText()).isEqualTo(aliceSpaFamily);
        assertThat(revoked.json().get("familiesRevoked").asInt()).isEqualTo(1);
        assertThat(revoked.json().get("clientSessionsEnded").asInt()).isEqualTo(1);
        Reply refused = spa.refresh(aliceRotated.text("refresh_token"));
        assertThat(refused.status() + " " + refused.text("error")).isEqualTo("400 invalid_grant");
        assertThat(state(aliceSpaFamily)).isEqualTo("REVOKED");
        assertThat(ok(other.refresh(aliceOffline.text("refresh_token")))).isNotNull();
        // a revoked family is no longer live: a second revoke is 404
        Reply offlineBearer = ok(other.refresh(ok(other.password("alice", "alice")).text("refresh_token")));
        assertThat(http.json("POST", api + "/families/" + aliceSpaFamily + "/revoke", offlineBearer.text("access_token"), null)
                .status()).isEqualTo(404);

        List<JsonNode> events = realm.admin.events(realm.name, "REVOKE_GRANT");
        assertThat(events).hasSize(1);
        JsonNode details = events.get(0).path("details");
        assertThat(events.get(0).path("userId").asText()).isEqualTo(realm.userIds.get("alice"));
        assertThat(events.get(0).path("clientId").asText()).isEqualTo("spa");
        assertThat(details.path("family_id").asText()).isEqualTo(aliceSpaFamily);
        assertThat(details.path("families_revoked").asText()).isEqualTo("1");
        assertThat(details.path("revoked_by").asText()).isEqualTo("user");
    }

    @Test
    void thePageNeedsTheSsoSessionAndItsRevokeFormTheAntiCsrfToken() {
        TestRealm realm = TestRealm.guarded(server, "account-page", Map.of());
        Oidc spa = realm.spa();
        Reply aliceSpa = ok(spa.password("alice", "alice"));
        Reply bobSpa = ok(spa.password("bob", "bob"));
        String page = server.baseUrl() + "/realms/" + realm.name + "/refresh-guard/account";

        CookieBrowser anonymous = new CookieBrowser();
        CookieBrowser.Page signIn = anonymous.get(page);
        assertThat(signIn.status()).isEqualTo(401);
        assertThat(signIn.body()).contains("Sign in to your account first").doesNotContain(family(aliceSpa));

        CookieBrowser browser = new CookieBrowser();
        browser.signIn(server, realm.name, "alice", "alice");
        CookieBrowser.Page listed = browser.get(page);
        assertThat(listed.status()).as(listed.body()).isEqualTo(200);
        assertThat(listed.body()).contains("Where you are signed in").contains(family(aliceSpa)).doesNotContain(family(bobSpa));
        Matcher form = FORM.matcher(listed.body());
        assertThat(form.find()).isTrue();
        String revokeUrl = form.group(1).replace("&amp;", "&");
        Matcher csrf = CSRF.matcher(listed.body());
        assertThat(csrf.find()).isTrue();

        // without the page's token, with another: 403; no session: 401; nothing revoked
        assertThat(browser.post(revokeUrl, Map.of()).status()).isEqualTo(403);
        assertThat(browser.post(revokeUrl, Map.of("csrf", "forged")).status()).isEqualTo(403);
        assertThat(anonymous.post(revokeUrl, Map.of("csrf", csrf.group(1))).status()).isEqualTo(401);
        // another user's family with alice's own token: 404
        String bobUrl = revokeUrl.replace(family(aliceSpa), family(bobSpa));
        assertThat(browser.post(bobUrl, Map.of("csrf", csrf.group(1))).status()).isEqualTo(404);
        assertThat(state(family(aliceSpa))).isEqualTo("ACTIVE");
        assertThat(state(family(bobSpa))).isEqualTo("ACTIVE");

        String aliceSpaUrl = revokeUrl.contains(family(aliceSpa)) ? revokeUrl : null;
        assertThat(aliceSpaUrl).as("the first form is a family of alice: %s", revokeUrl).isNotNull();
        CookieBrowser.Page done = browser.post(aliceSpaUrl, Map.of("csrf", csrf.group(1)));
        assertThat(done.status()).isEqualTo(303);
        assertThat(state(family(aliceSpa))).isEqualTo("REVOKED");
        assertThat(browser.get(page).body()).doesNotContain(family(aliceSpa));
    }

    // ---------------------------------------------------------------------------------------------------------

    private String state(String familyId) {
        return String.valueOf(Ledger.of(server).family(familyId).get("state"));
    }

    private static String api(TestRealm realm) {
        return realm.server.baseUrl() + "/realms/" + realm.name + "/refresh-guard/account/api";
    }

    private static String family(Reply login) {
        return Oidc.claims(login.text("refresh_token")).get("rg_fid").asText();
    }

    private static JsonNode row(JsonNode list, String familyId) {
        for (JsonNode n : list) {
            if (familyId.equals(n.get("id").asText())) {
                return n;
            }
        }
        throw new AssertionError("no family " + familyId + " in " + list);
    }

    private static Reply ok(Reply reply) {
        assertThat(reply.status()).as("%s", reply).isEqualTo(200);
        return reply;
    }
}
