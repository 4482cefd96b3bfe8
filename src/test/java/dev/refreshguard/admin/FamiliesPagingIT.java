package dev.refreshguard.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

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
 * {@code GET families?user_id=U&first=N&max=M&state=S}: paged as Keycloak's admin API pages (default max 100, max an
 * upper bound), oldest first, filtered by state; bad paging or state values are 400, never a 5xx.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FamiliesPagingIT {

    private static final int FAMILIES = 7;

    private TestRealm realm;
    private String userId;
    /** The user's families in the order the endpoint lists them: oldest first. */
    private final List<String> families = new ArrayList<>();
    private String revoked;
    private String ended;

    @BeforeAll
    void families(KeycloakServer server) {
        realm = TestRealm.guarded(server, "paging", Map.of());
        userId = realm.addUser("paula");
        List<String> refreshTokens = new ArrayList<>();
        Map<String, Long> created = new java.util.HashMap<>();
        for (int i = 0; i < FAMILIES; i++) {
            Reply login = realm.spa().password("paula", "paula");
            assertThat(login.status()).as("%s", login).isEqualTo(200);
            refreshTokens.add(login.text("refresh_token"));
            JsonNode claims = Oidc.claims(login.text("refresh_token"));
            families.add(claims.get("rg_fid").asText());
            created.put(claims.get("rg_fid").asText(), claims.get("iat").asLong());
        }
        revoked = families.get(2);
        realm.admin.ok("POST", "/" + realm.name + "/refresh-guard/families/" + revoked + "/revoke", null);
        // A logout ends the session's families at once: ENDED.
        ended = families.get(4);
        Reply logout = new dev.refreshguard.harness.Http().postForm(server.baseUrl() + "/realms/" + realm.name
                + "/protocol/openid-connect/logout", Map.of("client_id", "spa", "refresh_token", refreshTokens.get(4)));
        assertThat(logout.status()).as("%s", logout).isEqualTo(204);
        // The listing order: creation second, then id (several logins share a second).
        families.sort(java.util.Comparator.comparing((String id) -> created.get(id)).thenComparing(id -> id));
    }

    private Reply get(String query) {
        return realm.admin.call("GET", "/" + realm.name + "/refresh-guard/families?user_id=" + userId + query, null);
    }

    private List<String> ids(String query) {
        Reply reply = get(query);
        assertThat(reply.status()).as("%s", reply).isEqualTo(200);
        List<String> out = new ArrayList<>();
        reply.json().forEach(f -> out.add(f.get("id").asText()));
        return out;
    }

    @Test
    void withoutPagingEveryFamilyOldestFirst() {
        assertThat(ids("")).containsExactlyElementsOf(families);
    }

    @Test
    void firstAndMaxPageThroughInOrder() {
        assertThat(ids("&first=0&max=3")).containsExactlyElementsOf(families.subList(0, 3));
        assertThat(ids("&first=3&max=3")).containsExactlyElementsOf(families.subList(3, 6));
        assertThat(ids("&first=6&max=3")).containsExactlyElementsOf(families.subList(6, 7));
        assertThat(ids("&first=7&max=3")).isEmpty();
        assertThat(ids("&first=1000000")).isEmpty();
        assertThat(ids("&max=2")).containsExactlyElementsOf(families.subList(0, 2));
        assertThat(ids("&first=5")).containsExactlyElementsOf(families.subList(5, 7));
        // max is an upper bound: more than there are gives what there is; 0 gives none.
        assertThat(ids("&max=1000")).containsExactlyElementsOf(families);
        assertThat(ids("&max=2147483647")).containsExactlyElementsOf(families);
        assertThat(ids("&max=0")).isEmpty();
        // Empty values mean the defaults, as in Keycloak's admin API.
        assertThat(ids("&first=&max=")).containsExactlyElementsOf(families);
    }

    @Test
    void theStateFilterShowsOneStateInOrder() {
        assertThat(ids("&state=REVOKED")).containsExactly(revoked);
        assertThat(ids("&state=ENDED")).containsExactly(ended);
        List<String> active = new ArrayList<>(families);
        active.remove(revoked);
        active.remove(ended);
        assertThat(ids("&state=ACTIVE")).containsExactlyElementsOf(active);
        assertThat(ids("&state=active&first=1&max=2")).containsExactlyElementsOf(active.subList(1, 3));
        JsonNode endedFamily = get("&state=ENDED").json().get(0);
        assertThat(endedFamily.get("state").asText()).isEqualTo("ENDED");
        assertThat(endedFamily.get("endedAt").asLong()).isPositive();
        assertThat(endedFamily.hasNonNull("revokedAt")).isFalse();
        JsonNode revokedFamily = get("&state=REVOKED").json().get(0);
        assertThat(revokedFamily.get("revokedAt").asLong()).isPositive();
        assertThat(revokedFamily.hasNonNull("endedAt")).isFalse();
    }

    @Test
    void badPagingAndStateValuesAre400() {
        for (String bad : List.of("&first=-1", "&max=-1", "&first=abc", "&max=ten", "&max=1.5", "&first=1e3",
                "&max=99999999999", "&first=" + q(" 2x"), "&max=" + q("%00"))) {
            Reply reply = get(bad);
            assertThat(reply.status()).as(bad + " -> %s", reply).isEqualTo(400);
            assertThat(reply.text("errorMessage")).as(bad).startsWith("Query parameter ");
        }
        for (String bad : List.of("&state=GONE", "&state=" + q("ACTIVE'--"), "&state=" + q("ACTIVE,REVOKED"))) {
            Reply reply = get(bad);
            assertThat(reply.status()).as(bad + " -> %s", reply).isEqualTo(400);
            assertThat(reply.text("errorMessage")).isEqualTo("Query parameter state accepts ACTIVE, REVOKED, ENDED");
        }
    }

    private static String q(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
