package dev.refreshguard.reuse;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.Http;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Ledger;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.TestRealm;

/**
 * One revocation path: a family tree of any size revokes completely, and every way of revoking — reuse, an
 * admin's revoke, the RFC 7009 revocation endpoint, the session-wide reuse actions — records its reason and
 * counts {@code refresh_guard_family_revoked_total} alike: one per family revoked, under that family's client.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RevocationPathIT {

    private static final String METRIC = "refresh_guard_family_revoked_total";
    private static final Pattern SAMPLE = Pattern.compile("^" + METRIC + "\\{(.*)\\}\\s+(\\S+)$");
    /** Beyond one statement's id list (500), and beyond the 10,000 families an older version silently stopped at. */
    private static final int WIDE_LEVEL = 10_001;

    private KeycloakServer server;

    @BeforeAll
    void server(KeycloakServer server) {
        this.server = server;
    }

    @Test
    void aFamilyTreeWiderThanAnyStatementRevokesCompletely() {
        TestRealm realm = TestRealm.guarded(server, "wide-tree", Map.of());
        Oidc spa = realm.spa();
        Reply login = spa.password("alice", "alice");
        assertThat(login.status()).isEqualTo(200);
        String root = familyOf(login.text("refresh_token"));
        List<String> children = new ArrayList<>();
        for (int i = 0; i < WIDE_LEVEL; i++) {
            children.add(UUID.randomUUID().toString());
        }
        // Two levels deeper: a grandchild under the last child and a great-grandchild under it.
        String grandchild = UUID.randomUUID().toString();
        String greatGrandchild = UUID.randomUUID().toString();
        Ledger ledger = Ledger.of(server);
        Map<String, Object> rootRow = ledger.family(root);
        seed(ledger, rootRow, root, children);
        seed(ledger, rootRow, children.get(WIDE_LEVEL - 1), List.of(grandchild));
        seed(ledger, rootRow, grandchild, List.of(greatGrandchild));
        int tree = 1 + WIDE_LEVEL + 2;
        Map<String, Double> before = revokedCounts(realm);

        assertThat(spa.refresh(login.text("refresh_token")).status()).isEqualTo(200);
        Oidc.expectReuseDetected(spa.refresh(login.text("refresh_token")));

        Map<String, Long> counts = new TreeMap<>();
        for (Map<String, Object> row : ledger.rows("SELECT state, revoked_reason, COUNT(*) AS n FROM RG_FAMILY"
                + " WHERE realm_id = ? GROUP BY state, revoked_reason", rootRow.get("realm_id"))) {
            counts.put(row.get("state") + "/" + row.get("revoked_reason"), ((Number) row.get("n")).longValue());
        }
        assertThat(counts).containsExactly(Map.entry("REVOKED/reuse", (long) tree));
        assertThat(ledger.family(greatGrandchild)).containsEntry("state", "REVOKED");
        assertThat(delta(before, revokedCounts(realm))).isEqualTo(Map.of("spa", (double) tree));
    }

    @Test
    void everyRevocationPathRecordsItsReasonAndCountsEachFamilyOnce() {
        TestRealm realm = TestRealm.guarded(server, "one-path", Map.of());
        realm.addPublicClient("wide");
        realm.clientAttributes("wide", Map.of("refresh.guard.reuse.action", "revoke-user-session"));
        realm.addPublicClient("widest");
        realm.clientAttributes("widest", Map.of("refresh.guard.reuse.action", "revoke-all-sessions"));
        Oidc spa = realm.spa();

        // Reuse (revoke-family): the family.
        Reply reused = spa.password("alice", "alice");
        Map<String, Double> before = revokedCounts(realm);
        assertThat(spa.refresh(reused.text("refresh_token")).status()).isEqualTo(200);
        Oidc.expectReuseDetected(spa.refresh(reused.text("refresh_token")));
        assertThat(delta(before, revokedCounts(realm))).isEqualTo(Map.of("spa", 1.0));
        assertThat(reason(familyOf(reused.text("refresh_token")))).isEqualTo("reuse");

        // An admin's revoke: the family.
        Reply byAdmin = spa.password("alice", "alice");
        before = revokedCounts(realm);
        Reply revoke = realm.admin.call("POST", "/" + realm.name + "/refresh-guard/families/"
                + familyOf(byAdmin.text("refresh_token")) + "/revoke", null);
        assertThat(revoke.status()).as("admin revoke: %s", revoke).isEqualTo(200);
        assertThat(delta(before, revokedCounts(realm))).isEqualTo(Map.of("spa", 1.0));
        assertThat(reason(familyOf(byAdmin.text("refresh_token")))).isEqualTo("admin");

        // The RFC 7009 revocation endpoint: the family of the revoked token.
        Oidc other = realm.oidc("other");
        Reply byEndpoint = other.password("alice", "alice");
        before = revokedCounts(realm);
        assertThat(other.revoke(byEndpoint.text("refresh_token"), "refresh_token").status()).isEqualTo(200);
        assertThat(delta(before, revokedCounts(realm))).isEqualTo(Map.of("other", 1.0));
        assertThat(reason(familyOf(byEndpoint.text("refresh_token")))).isEqualTo("revocation-endpoint");

        // revoke-user-session: every family of that login, each under its own client.
        Oidc.Browser browser = new Oidc.Browser();
        Reply wideLogin = realm.oidc("wide").authorizationCode(browser, "bob", "bob", TestRealm.REDIRECT);
        Reply spaLogin = spa.authorizationCode(browser, "bob", "bob", TestRealm.REDIRECT);
        assertThat(spaLogin.text("session_state")).isEqualTo(wideLogin.text("session_state"));
        before = revokedCounts(realm);
        assertThat(realm.oidc("wide").refresh(wideLogin.text("refresh_token")).status()).isEqualTo(200);
        Oidc.expectReuseDetected(realm.oidc("wide").refresh(wideLogin.text("refresh_token")));
        assertThat(delta(before, revokedCounts(realm))).isEqualTo(Map.of("wide", 1.0, "spa", 1.0));
        assertThat(reason(familyOf(spaLogin.text("refresh_token")))).isEqualTo("reuse");

        // revoke-all-sessions: every family of the user, online and offline.
        realm.addUser("carol");
        Reply widestLogin = realm.oidc("widest").password("carol", "carol");
        Reply carolSpa = spa.password("carol", "carol");
        Reply carolOffline = realm.oidc("other").password("carol", "carol", "scope", "openid offline_access");
        assertThat(carolOffline.status()).as("offline login: %s", carolOffline).isEqualTo(200);
        before = revokedCounts(realm);
        assertThat(realm.oidc("widest").refresh(widestLogin.text("refresh_token")).status()).isEqualTo(200);
        Oidc.expectReuseDetected(realm.oidc("widest").refresh(widestLogin.text("refresh_token")));
        assertThat(delta(before, revokedCounts(realm))).isEqualTo(Map.of("widest", 1.0, "spa", 1.0, "other", 1.0));
        assertThat(reason(familyOf(carolSpa.text("refresh_token")))).isEqualTo("reuse");
        assertThat(reason(familyOf(carolOffline.text("refresh_token")))).isEqualTo("reuse");
    }

    private static String familyOf(String refreshToken) {
        return Oidc.claims(refreshToken).get("rg_fid").asText();
    }

    /** refresh_guard_family_revoked_total of this realm by client, as Prometheus scrapes it. */
    private Map<String, Double> revokedCounts(TestRealm realm) {
        Reply metrics = new Http().get(server.managementUrl() + "/metrics", null);
        assertThat(metrics.status()).isEqualTo(200);
        Map<String, Double> counts = new TreeMap<>();
        for (String line : metrics.body().split("\n")) {
            Matcher m = SAMPLE.matcher(line.trim());
            if (m.matches() && m.group(1).contains("realm=\"" + realm.name + "\"")) {
                Matcher client = Pattern.compile("client=\"([^\"]*)\"").matcher(m.group(1));
                assertThat(client.find()).isTrue();
                counts.merge(client.group(1), Double.parseDouble(m.group(2)), Double::sum);
            }
        }
        return counts;
    }

    private static Map<String, Double> delta(Map<String, Double> before, Map<String, Double> after) {
        Map<String, Double> delta = new TreeMap<>();
        after.forEach((client, value) -> {
            double d = value - before.getOrDefault(client, 0.0);
            if (d != 0) {
                delta.put(client, d);
            }
        });
        return delta;
    }

    private String reason(String familyId) {
        Map<String, Object> row = Ledger.of(server).family(familyId);
        assertThat(row).containsEntry("state", "REVOKED");
        return (String) row.get("revoked_reason");
    }

    /** Children of {@code parent} as an exchange would have started them: same realm, client, user and session. */
    private static void seed(Ledger ledger, Map<String, Object> like, String parent, List<String> ids) {
        List<Object[]> rows = new ArrayList<>();
        for (String id : ids) {
            rows.add(new Object[] {id, like.get("realm_id"), like.get("client_id"), like.get("user_id"), like.get("session_id"),
                    parent, like.get("created_at"), like.get("created_at")});
        }
        ledger.update("INSERT INTO RG_FAMILY (id, realm_id, client_id, user_id, session_id, offline, parent_id, generation,"
                + " created_at, rotated_at, rotated_by_ip, state, stopped_at)"
                + " VALUES (?, ?, ?, ?, ?, FALSE, ?, 0, ?, ?, '127.0.0.1', 'ACTIVE', 0)", rows);
    }
}
