package dev.refreshguard.harness;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

import dev.refreshguard.harness.Http.Reply;

/**
 * Users of a test realm who administer only that realm, each with a few realm-management roles (view-users,
 * manage-users, ...), and their admin API tokens. They log in through the realm's own {@code admin-cli}.
 */
public final class RealmAdmins {

    private final Http http = new Http();
    private final TestRealm realm;

    public RealmAdmins(TestRealm realm) {
        this.realm = realm;
    }

    /** Creates {@code username} (password = username) with the given realm-management client roles. */
    public void create(String username, String... roles) {
        String userId = realm.addUser(username);
        if (roles.length == 0) {
            return;
        }
        String management = realm.admin.ok("GET", "/" + realm.name + "/clients?clientId=realm-management", null)
                .json().get(0).get("id").asText();
        List<JsonNode> reps = new ArrayList<>();
        for (String role : roles) {
            reps.add(realm.admin.ok("GET", "/" + realm.name + "/clients/" + management + "/roles/" + role, null).json());
        }
        realm.admin.ok("POST", "/" + realm.name + "/users/" + userId + "/role-mappings/clients/" + management, reps);
    }

    /** A fresh admin API token of {@code username}. */
    public String token(String username) {
        Reply reply = http.postForm(realm.server.baseUrl() + "/realms/" + realm.name + "/protocol/openid-connect/token",
                Http.params("grant_type", "password", "client_id", "admin-cli", "username", username, "password", username));
        if (reply.status() != 200) {
            throw new AssertionError("login of " + username + " failed: " + reply);
        }
        return reply.text("access_token");
    }

    /** Calls the admin API of the realm as {@code bearer} (null: no token at all). */
    public Reply call(String bearer, String method, String pathInRealm, Object body) {
        return http.json(method, realm.server.baseUrl() + "/admin/realms/" + realm.name + pathInRealm, bearer, body);
    }
}
