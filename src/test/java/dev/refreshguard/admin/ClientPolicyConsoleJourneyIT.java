package dev.refreshguard.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.refreshguard.harness.ConsoleBrowser;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.TestRealm;

/**
 * An admin sets a client's refresh-guard policy in the real Keycloak 26.7.3 admin console, in headless Chromium:
 * Realm settings → Client policies → the profile's {@code refresh-guard} executor → grace and reuse action → Save,
 * then the client → Save. The effective policy changes (admin REST API) and so does a refresh (a replay inside the
 * grace window gets the very same successor). A refused value shows Keycloak's error notification naming the
 * attribute, with the client update API's message. Screenshots of every step go to target/console-screenshots/.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientPolicyConsoleJourneyIT {

    private static final String PROFILE = "refresh-guard-spa";
    private static final String ROLE = "refresh-guard-spa";

    @RegisterExtension
    final ConsoleBrowser browser = new ConsoleBrowser();

    private KeycloakServer server;
    private TestRealm realm;
    private ClientPolicies policies;

    @BeforeAll
    void realmWithAPolicyForTheSpa(KeycloakServer server) {
        this.server = server;
        realm = TestRealm.guarded(server, "consolepolicy", Map.of());
        policies = new ClientPolicies(realm);
        // What an admin clicks together once in Keycloak's own screens (Clients → spa → Roles; Client policies →
        // Profiles and Policies): the spa carries a client role, a policy applies the profile to clients with that role.
        policies.addClientRole("spa", ROLE);
        assertThat(policies.putProfile(PROFILE, Map.of("notify-user", "false")).status()).isEqualTo(204);
        policies.putPolicy(PROFILE, PROFILE, ROLE);
    }

    @Test
    void adminSetsGraceAndReuseActionOfAClientInTheConsole() {
        browser.prefix("client-policy");
        assertThat(effective("refresh.guard.grace.seconds").path("source").asText()).isEqualTo("default");

        AdminConsole console = new AdminConsole(server, browser);
        console.logIn();
        console.openRealm(realm.name);
        console.openClientProfile(PROFILE);
        console.editExecutor("refresh-guard", "notify-user", "false",
                Map.of("grace-seconds", "30"), Map.of("reuse-action", "alert-only"));
        console.notification("Executor updated successfully");
        browser.snap("executor-saved");
        assertThat(policies.storedConfiguration(PROFILE)).containsEntry("grace-seconds", "30").containsEntry("reuse-action", "alert-only");

        console.saveClient(realm.name, "spa", realm.clientUuids.get("spa"));

        JsonNode grace = effective("refresh.guard.grace.seconds");
        assertThat(grace.path("value").asText()).isEqualTo("30");
        assertThat(grace.path("source").asText()).isEqualTo("client");
        JsonNode action = effective("refresh.guard.reuse.action");
        assertThat(action.path("value").asText()).isEqualTo("alert-only");
        assertThat(action.path("source").asText()).isEqualTo("client");

        // Grace 30: presenting the rotated-away token again at once is a grace replay, not reuse.
        realm.spa().expectGraceReplay("alice", "alice");

        // A value the REST API refuses is refused here too, with its message, and nothing is stored.
        console.openClientProfile(PROFILE);
        console.editExecutor("refresh-guard", "reuse-action", "alert-only", Map.of("grace-seconds", "999"), Map.of());
        String refusal = console.notification("refresh.guard.grace.seconds");
        browser.snap("executor-refused");
        assertThat(refusal).contains("Executor not updated")
                .contains("refresh.guard.grace.seconds accepts an integer from 0 to 300; got '999'");
        assertThat(policies.storedConfiguration(PROFILE)).containsEntry("grace-seconds", "30");
        assertThat(effective("refresh.guard.grace.seconds").path("value").asText()).isEqualTo("30");
    }

    private JsonNode effective(String key) {
        return realm.admin.ok("GET", "/" + realm.name + "/refresh-guard/policy?client_id=spa", null).json().path("attributes").path(key);
    }
}
