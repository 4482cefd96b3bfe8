package dev.refreshguard.admin;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.TestRealm;

/**
 * A realm's client policies through Keycloak's admin REST API: one profile holding the {@code refresh-guard} executor,
 * one policy applying it to the clients that have a client role, and that role on chosen clients.
 */
final class ClientPolicies {

    static final String EXECUTOR = "refresh-guard";

    private final TestRealm realm;

    ClientPolicies(TestRealm realm) {
        this.realm = realm;
    }

    /** Replaces the realm's profiles with one profile holding the executor with this configuration. */
    Reply putProfile(String profile, Map<String, ?> configuration) {
        Map<String, Object> executor = new LinkedHashMap<>();
        executor.put("executor", EXECUTOR);
        executor.put("configuration", configuration);
        return realm.admin.call("PUT", "/" + realm.name + "/client-policies/profiles",
                Map.of("profiles", List.of(Map.of("name", profile, "description", "refresh-guard test profile",
                        "executors", List.of(executor)))));
    }

    /** Replaces the realm's policies with one that applies the profile to every client with the client role. */
    void putPolicy(String policy, String profile, String clientRole) {
        Map<String, Object> condition = Map.of("condition", "client-roles", "configuration", Map.of("roles", List.of(clientRole)));
        realm.admin.ok("PUT", "/" + realm.name + "/client-policies/policies", Map.of("policies", List.of(Map.of(
                "name", policy, "description", "refresh-guard test policy", "enabled", true,
                "conditions", List.of(condition), "profiles", List.of(profile)))));
    }

    void addClientRole(String clientId, String role) {
        realm.admin.ok("POST", "/" + realm.name + "/clients/" + realm.clientUuids.get(clientId) + "/roles", Map.of("name", role));
    }

    /** The executor's configuration as the realm stores it now. */
    Map<String, String> storedConfiguration(String profile) {
        Map<String, String> out = new LinkedHashMap<>();
        realm.admin.ok("GET", "/" + realm.name + "/client-policies/profiles", null).json().path("profiles").forEach(p -> {
            if (p.path("name").asText().equals(profile)) {
                p.path("executors").forEach(e -> e.path("configuration").fields()
                        .forEachRemaining(f -> out.put(f.getKey(), f.getValue().asText())));
            }
        });
        return out;
    }

    /** Saves the client unchanged, as the console's Save button does: GET its representation, PUT it back. */
    Reply saveClient(String clientId) {
        return realm.admin.setClientAttributes(realm.name, realm.clientUuids.get(clientId), Map.of());
    }
}
