package dev.refreshguard.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.RealmAdmins;
import dev.refreshguard.harness.TestRealm;

/**
 * Admin authorization under fine-grained admin permissions v2 (feature {@code admin-fine-grained-authz:v2}, on by
 * default in Keycloak 26.7; realm setting {@code adminPermissionsEnabled}). The permission model is built through the
 * admin REST API as the admin console builds it (the realm's {@code admin-permissions} client: user policies, scope
 * permissions on the resource types Users, Groups and Clients). For every admin and every user, Keycloak's own answer
 * is the oracle: {@code GET users/{id}} for the families list, a manage action on the user ({@code PUT users/{id}} with
 * the user unchanged) for the revoke, {@code GET clients/{id}} for the policy. Ours must give exactly the same status,
 * and a refused revoke must leave the family as it was. Two realms: Keycloak needs every permission on all users to
 * grant, so group admins live where no such permission exists.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FineGrainedAdminIT {

    /** The admins, with the realm-management roles each has besides its fine-grained permissions. */
    private static final String ALL = "fg-all";          // query-users; view + manage all users
    private static final String DENY = "fg-deny";        // query-users; view + manage all users except the victim
    private static final String GROUP = "fg-group";      // query-users; view + manage the members of group team
    private static final String GROUP_BARE = "fg-group-bare"; // no role; view + manage the members of team
    private static final String VIEWER = "fg-view";      // query-users; view all users and the victim, manage none
    private static final List<String> USER_ADMINS = List.of(ALL, DENY, GROUP, GROUP_BARE, VIEWER);
    private static final String CLIENT_BARE = "fg-client-bare"; // no role; view client api
    private static final String CLIENT = "fg-client";    // query-clients; view client api

    /** The users the admins act on. */
    private static final String MEMBER = "member";
    private static final String OUTSIDER = "outsider";
    private static final String VICTIM = "victim";
    private static final List<String> TARGETS = List.of(MEMBER, OUTSIDER, VICTIM);

    /** One realm with fine-grained admin permissions on, its admins and its admin-permissions client. */
    private record Scene(TestRealm realm, RealmAdmins admins, String permissions, String team) {

        static Scene of(KeycloakServer server, String prefix) {
            TestRealm realm = TestRealm.guarded(server, prefix, Map.of());
            realm.admin.ok("PUT", "/" + realm.name, Map.of("adminPermissionsEnabled", true));
            String permissions = realm.admin.ok("GET", "/" + realm.name + "/clients?clientId=admin-permissions", null).json()
                    .get(0).get("id").asText();
            for (String user : TARGETS) {
                realm.addUser(user);
            }
            Reply group = realm.admin.ok("POST", "/" + realm.name + "/groups", Map.of("name", "team"));
            String team = group.headers().firstValue("Location").map(l -> l.substring(l.lastIndexOf('/') + 1)).orElseThrow();
            realm.admin.ok("PUT", "/" + realm.name + "/users/" + realm.userIds.get(MEMBER) + "/groups/" + team, null);
            return new Scene(realm, new RealmAdmins(realm), permissions, team);
        }

        String user(String username) {
            return realm.userIds.get(username);
        }

        /** A user policy of the admin-permissions client, as the console's "Create policy → User" makes it; its id. */
        String userPolicy(String name, String... usernames) {
            List<String> users = new ArrayList<>();
            for (String username : usernames) {
                users.add(user(username));
            }
            return realm.admin.ok("POST", authz("/policy/user"), Map.of("name", name, "logic", "POSITIVE", "users", users))
                    .json().get("id").asText();
        }

        /** A permission of the admin-permissions client, as the console's "Create permission" makes it. */
        void scopePermission(String name, String resourceType, List<String> resources, List<String> scopes, String policy) {
            Map<String, Object> permission = new LinkedHashMap<>();
            permission.put("name", name);
            permission.put("resourceType", resourceType);
            permission.put("resources", resources);
            permission.put("scopes", scopes);
            permission.put("policies", List.of(policy));
            permission.put("decisionStrategy", "UNANIMOUS");
            realm.admin.ok("POST", authz("/permission/scope"), permission);
        }

        private String authz(String path) {
            return "/" + realm.name + "/clients/" + permissions + "/authz/resource-server" + path;
        }

        /** The state of one family of the user, as the master admin reads it. */
        String stateOf(String userId, String family) {
            for (JsonNode f : realm.admin.ok("GET", "/" + realm.name + "/refresh-guard/families?user_id=" + userId, null).json()) {
                if (family.equals(f.get("id").asText())) {
                    return f.get("state").asText();
                }
            }
            throw new AssertionError("family " + family + " not listed");
        }
    }

    /** The realm of fg-all, fg-deny, fg-view and the client admins. */
    private Scene users;
    /** The realm of the group admins: there no permission on all users exists. */
    private Scene groups;
    private final Map<String, Scene> sceneOf = new LinkedHashMap<>();
    private TestRealm other;

    @BeforeAll
    void realms(KeycloakServer server) {
        users = Scene.of(server, "fgap");
        users.admins().create(ALL, "query-users");
        users.admins().create(DENY, "query-users");
        users.admins().create(VIEWER, "query-users");
        users.admins().create(CLIENT_BARE);
        users.admins().create(CLIENT, "query-clients");
        // Keycloak 26.7 lets a permission on one user take precedence over those on all users, but needs every
        // permission on all users, and on a group of the user, to grant (a user policy that does not name the admin
        // denies): so the group admins get a realm of their own.
        users.scopePermission("view-all-users", "Users", List.of(), List.of("view"),
                users.userPolicy("user-viewers", ALL, DENY, VIEWER));
        users.scopePermission("manage-all-users", "Users", List.of(), List.of("manage"),
                users.userPolicy("user-managers", ALL, DENY));
        // The victim: the same grants for everyone but fg-deny.
        String victim = users.user(VICTIM);
        users.scopePermission("view-victim", "Users", List.of(victim), List.of("view"), users.userPolicy("victim-viewers", ALL, VIEWER));
        users.scopePermission("manage-victim", "Users", List.of(victim), List.of("manage"), users.userPolicy("victim-managers", ALL));
        users.scopePermission("view-api", "Clients", List.of(users.realm().clientUuids.get("api")), List.of("view"),
                users.userPolicy("api-viewers", CLIENT_BARE, CLIENT));

        groups = Scene.of(server, "fgap-groups");
        groups.admins().create(GROUP, "query-users");
        groups.admins().create(GROUP_BARE);
        groups.scopePermission("team-members", "Groups", List.of(groups.team()), List.of("view-members", "manage-members"),
                groups.userPolicy("team-admins", GROUP, GROUP_BARE));

        for (String admin : List.of(ALL, DENY, VIEWER, CLIENT_BARE, CLIENT)) {
            sceneOf.put(admin, users);
        }
        sceneOf.put(GROUP, groups);
        sceneOf.put(GROUP_BARE, groups);
        other = TestRealm.guarded(server, "fgap-other", Map.of());
    }

    @Test
    void familiesListAnswersExactlyAsGetUser() {
        // What Keycloak answers each admin for member, outsider, victim, an unknown id, a user of another realm.
        Map<String, List<Integer>> expected = new LinkedHashMap<>();
        expected.put(ALL, List.of(200, 200, 200, 404, 404));
        expected.put(DENY, List.of(200, 200, 403, 404, 404));
        // Keycloak denies fg-view the users it may only view: manage-all-users, which does not name it, denies too.
        // On the victim, whose own permissions take precedence, it may view.
        expected.put(VIEWER, List.of(403, 403, 200, 404, 404));
        expected.put(GROUP, List.of(200, 403, 403, 404, 404));
        expected.put(GROUP_BARE, List.of(200, 403, 403, 403, 403));
        for (Scene scene : List.of(users, groups)) {
            for (String user : TARGETS) {
                assertThat(scene.realm().spa().password(user, user).status()).isEqualTo(200);
            }
        }
        for (String admin : USER_ADMINS) {
            Scene scene = sceneOf.get(admin);
            Map<String, String> ids = new LinkedHashMap<>();
            for (String user : TARGETS) {
                ids.put(user, scene.user(user));
            }
            ids.put("unknown", UUID.randomUUID().toString());
            ids.put("of another realm", other.userIds.get("alice"));
            String token = scene.admins().token(admin);
            List<Integer> keycloak = new ArrayList<>();
            for (Map.Entry<String, String> user : ids.entrySet()) {
                Reply theirs = scene.admins().call(token, "GET", "/users/" + user.getValue(), null);
                Reply ours = scene.admins().call(token, "GET", "/refresh-guard/families?user_id=" + user.getValue(), null);
                keycloak.add(theirs.status());
                assertThat(ours.status()).as("%s: families of %s (%s) vs GET users/{id} (%s)", admin, user.getKey(), ours, theirs)
                        .isEqualTo(theirs.status());
                if (ours.status() == 200) {
                    assertThat(ours.json()).as("%s: families of %s", admin, user.getKey()).isNotEmpty();
                    assertThat(ours.json().toString()).isEqualTo(scene.realm().admin.ok("GET", "/" + scene.realm().name
                            + "/refresh-guard/families?user_id=" + user.getValue(), null).json().toString());
                } else if (ours.status() == 404) {
                    assertThat(ours.text("errorMessage")).isEqualTo("User not found");
                }
            }
            assertThat(keycloak).as("Keycloak's GET users/{id} for %s (member, outsider, victim, unknown, other realm)", admin)
                    .isEqualTo(expected.get(admin));
        }
    }

    @Test
    void revokeAnswersExactlyAsAManageActionAndRevokesNothingWhenRefused() {
        // Keycloak's PUT users/{id} (204 = allowed) for member, outsider, victim.
        Map<String, List<Integer>> expected = new LinkedHashMap<>();
        expected.put(ALL, List.of(204, 204, 204));
        expected.put(DENY, List.of(204, 204, 403));
        expected.put(VIEWER, List.of(403, 403, 403));
        expected.put(GROUP, List.of(204, 403, 403));
        expected.put(GROUP_BARE, List.of(204, 403, 403));
        for (String admin : USER_ADMINS) {
            Scene scene = sceneOf.get(admin);
            TestRealm realm = scene.realm();
            String token = scene.admins().token(admin);
            List<Integer> keycloak = new ArrayList<>();
            for (String user : TARGETS) {
                Reply login = realm.spa().password(user, user);
                assertThat(login.status()).isEqualTo(200);
                String family = Oidc.claims(login.text("refresh_token")).get("rg_fid").asText();
                String userId = scene.user(user);

                Reply ours = scene.admins().call(token, "POST", "/refresh-guard/families/" + family + "/revoke", null);
                JsonNode unchanged = realm.admin.ok("GET", "/" + realm.name + "/users/" + userId, null).json();
                Reply theirs = scene.admins().call(token, "PUT", "/users/" + userId, unchanged);
                keycloak.add(theirs.status());
                String what = admin + ": revoke a family of " + user + " (" + ours + ") vs PUT users/{id} (" + theirs + ")";
                assertThat(ours.status()).as(what).isEqualTo(theirs.status() == 204 ? 200 : theirs.status());

                String state = scene.stateOf(userId, family);
                if (ours.status() == 200) {
                    assertThat(ours.text("state")).as(what).isEqualTo("REVOKED");
                    assertThat(state).as(what).isEqualTo("REVOKED");
                    Oidc.expectFamilyRevoked(realm.spa().refresh(login.text("refresh_token")));
                } else {
                    assertThat(state).as("nothing revoked: " + what).isEqualTo("ACTIVE");
                    assertThat(realm.spa().refresh(login.text("refresh_token")).status()).as(what).isEqualTo(200);
                }
            }
            assertThat(keycloak).as("Keycloak's PUT users/{id} for %s (member, outsider, victim)", admin)
                    .isEqualTo(expected.get(admin));
        }
    }

    @Test
    void anUnknownOrForeignFamilyGivesNoInformation() {
        Reply foreignLogin = other.spa().password("alice", "alice");
        String foreign = Oidc.claims(foreignLogin.text("refresh_token")).get("rg_fid").asText();
        for (String admin : USER_ADMINS) {
            Scene scene = sceneOf.get(admin);
            String token = scene.admins().token(admin);
            // Keycloak's answer to this admin for a user id that names nobody here.
            int nobody = scene.admins().call(token, "GET", "/users/" + UUID.randomUUID(), null).status();
            assertThat(nobody).as(admin).isEqualTo(admin.equals(GROUP_BARE) ? 403 : 404);
            for (String family : List.of(UUID.randomUUID().toString(), foreign)) {
                Reply ours = scene.admins().call(token, "POST", "/refresh-guard/families/" + family + "/revoke", null);
                assertThat(ours.status()).as("%s: %s", admin, ours).isEqualTo(nobody);
                if (nobody == 404) {
                    assertThat(ours.text("errorMessage")).isEqualTo("Family not found");
                }
            }
        }
        // The other realm's family is untouched.
        assertThat(other.spa().refresh(foreignLogin.text("refresh_token")).status()).isEqualTo(200);
    }

    @Test
    void policyAnswersAsGetClientForAClientPermission() {
        String unknownUuid = UUID.randomUUID().toString();
        RealmAdmins admins = users.admins();
        for (String admin : List.of(CLIENT_BARE, CLIENT, ALL)) {
            String token = admins.token(admin);
            for (String[] client : List.of(new String[] {"api", users.realm().clientUuids.get("api")},
                    new String[] {"spa", users.realm().clientUuids.get("spa")}, new String[] {"no-such-client", unknownUuid})) {
                Reply theirs = admins.call(token, "GET", "/clients/" + client[1], null);
                Reply ours = admins.call(token, "GET", "/refresh-guard/policy?client_id=" + client[0], null);
                assertThat(ours.status()).as("%s: policy of %s (%s) vs GET clients/{id} (%s)", admin, client[0], ours, theirs)
                        .isEqualTo(theirs.status());
            }
        }
        // The oracle itself: a permission on one client lets its holder see that client only.
        String bare = admins.token(CLIENT_BARE);
        Reply api = admins.call(bare, "GET", "/refresh-guard/policy?client_id=api", null);
        assertThat(api.status()).as("%s", api).isEqualTo(200);
        assertThat(api.text("clientId")).isEqualTo("api");
        assertThat(admins.call(bare, "GET", "/refresh-guard/policy?client_id=spa", null).status()).isEqualTo(403);
        assertThat(admins.call(bare, "GET", "/refresh-guard/policy?client_id=no-such-client", null).status()).isEqualTo(403);
        String querying = admins.token(CLIENT);
        assertThat(admins.call(querying, "GET", "/refresh-guard/policy?client_id=no-such-client", null).status()).isEqualTo(404);
    }
}
