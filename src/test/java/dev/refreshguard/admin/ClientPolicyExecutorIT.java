package dev.refreshguard.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.TestRealm;

/**
 * The client-policy executor {@code refresh-guard}, the admin console's way to set a client's policy, through the
 * admin REST API the console itself calls: it offers a field for every per-client attribute, writes them into the
 * clients its policy applies to when they are saved, and refuses what the client update API refuses, with the same
 * messages.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientPolicyExecutorIT {

    private static final String ROLE = "refresh-guard-strict";
    /** One profile and one policy, reconfigured by each test: a policy never names a profile that is gone. */
    private static final String PROFILE = "refresh-guard-test";
    private static final String POLICY = "refresh-guard-test";
    private static final List<String> FIELDS = List.of("rotation", "reuse-action", "reuse-action-likely-retry",
            "reuse-retry-seconds", "grace-seconds", "idle-seconds", "max-seconds", "offline-idle-seconds", "offline-max-seconds",
            "notify-user");

    private TestRealm realm;
    private ClientPolicies policies;

    @BeforeAll
    void realm(KeycloakServer server) {
        realm = TestRealm.guarded(server, "executor", Map.of());
        policies = new ClientPolicies(realm);
        policies.addClientRole("api", ROLE);
        policies.addClientRole("spa", ROLE);
    }

    @Test
    void theConsoleOffersTheExecutorWithAFieldForEveryPerClientAttribute() {
        JsonNode types = realm.admin.admin("GET", "/serverinfo", null).json()
                .path("componentTypes").path("org.keycloak.services.clientpolicy.executor.ClientPolicyExecutorProvider");
        JsonNode executor = null;
        for (JsonNode type : types) {
            if (type.path("id").asText().equals("refresh-guard")) {
                executor = type;
            }
        }
        assertThat(executor).as("executor refresh-guard in server info: %s", types).isNotNull();
        List<String> names = new ArrayList<>();
        Map<String, JsonNode> byName = new LinkedHashMap<>();
        executor.path("properties").forEach(p -> {
            names.add(p.path("name").asText());
            byName.put(p.path("name").asText(), p);
        });
        assertThat(names).containsExactlyElementsOf(FIELDS);
        assertThat(options(byName.get("reuse-action")))
                .containsExactly("keep", "revoke-family", "revoke-user-session", "revoke-all-sessions", "alert-only");
        assertThat(options(byName.get("reuse-action-likely-retry")))
                .containsExactly("keep", "revoke-family", "revoke-user-session", "revoke-all-sessions", "alert-only", "refuse");
        assertThat(options(byName.get("rotation"))).containsExactly("keep", "on", "off");
        // The console names the Keycloak settings that override rotation, and where the effective value is shown.
        assertThat(byName.get("rotation").path("helpText").asText())
                .contains("use.refresh.tokens=false", "suppress-refresh-token-rotation", "refresh-guard/policy?client_id=",
                        "refresh_guard_rotation_overridden");
        assertThat(options(byName.get("notify-user"))).containsExactly("keep", "true", "false");
        assertThat(byName.get("grace-seconds").path("type").asText()).isEqualTo("String");
        assertThat(byName.get("grace-seconds").path("helpText").asText())
                .contains("refresh.guard.grace.seconds").contains("an integer from 0 to 300");
    }

    @Test
    void everyFieldReachesTheClientsOfThePolicyWhenTheyAreSavedAndIsTheEffectivePolicy() {
        Map<String, String> configuration = new LinkedHashMap<>();
        configuration.put("rotation", "off");
        configuration.put("reuse-action", "revoke-user-session");
        configuration.put("grace-seconds", "7");
        configuration.put("idle-seconds", "600");
        configuration.put("max-seconds", "3600");
        configuration.put("offline-idle-seconds", "700");
        configuration.put("offline-max-seconds", "7200");
        configuration.put("notify-user", "true");
        configuration.put("reuse-action-likely-retry", "refuse");
        configuration.put("reuse-retry-seconds", "20");
        assertThat(policies.putProfile(PROFILE, configuration).status()).isEqualTo(204);
        policies.putPolicy(POLICY, PROFILE, ROLE);
        realm.addConfidentialClient("every", TestRealm.API_SECRET, Map.of());
        policies.addClientRole("every", ROLE);
        // Not yet saved: the policy writes nothing by itself.
        assertThat(source("every", "refresh.guard.grace.seconds")).isEqualTo("default");

        Reply saved = policies.saveClient("every");
        assertThat(saved.status()).as("%s", saved).isEqualTo(204);

        JsonNode attributes = realm.admin.client(realm.name, realm.clientUuids.get("every")).path("attributes");
        Map<String, String> expected = new LinkedHashMap<>(Map.of("refresh.guard.rotation", "off", "refresh.guard.reuse.action",
                "revoke-user-session", "refresh.guard.grace.seconds", "7", "refresh.guard.idle.seconds", "600",
                "refresh.guard.max.seconds", "3600", "refresh.guard.offline.idle.seconds", "700",
                "refresh.guard.offline.max.seconds", "7200", "refresh.guard.notify.user", "true"));
        expected.put("refresh.guard.reuse.action.likely-retry", "refuse");
        expected.put("refresh.guard.reuse.retry.seconds", "20");
        JsonNode effective = policy("every");
        expected.forEach((key, value) -> {
            assertThat(attributes.path(key).asText()).as("client attribute %s", key).isEqualTo(value);
            assertThat(effective.path(key).path("value").asText()).as("effective %s", key).isEqualTo(value);
            assertThat(effective.path(key).path("source").asText()).as("source of %s", key).isEqualTo("client");
            assertThat(effective.path(key).path("valid").asBoolean()).as("valid %s", key).isTrue();
        });
        // A client the policy does not apply to is saved unchanged.
        realm.addPublicClient("untagged");
        assertThat(policies.saveClient("untagged").status()).isEqualTo(204);
        assertThat(source("untagged", "refresh.guard.grace.seconds")).isEqualTo("default");
    }

    @Test
    void keepAndBlankLeaveTheClientsOwnValue() {
        assertThat(policies.putProfile(PROFILE, Map.of("grace-seconds", "", "reuse-action", "keep", "idle-seconds", "30")).status())
                .isEqualTo(204);
        policies.putPolicy(POLICY, PROFILE, ROLE);
        // The admin sets the client's own values and saves: blank and keep leave them, the filled field is written.
        realm.clientAttributes("api", Map.of("refresh.guard.grace.seconds", "42", "refresh.guard.reuse.action", "alert-only",
                "refresh.guard.max.seconds", "0"));
        JsonNode effective = policy("api");
        assertThat(effective.path("refresh.guard.grace.seconds").path("value").asText()).isEqualTo("42");
        assertThat(effective.path("refresh.guard.reuse.action").path("value").asText()).isEqualTo("alert-only");
        assertThat(effective.path("refresh.guard.idle.seconds").path("value").asText()).isEqualTo("30");
    }

    /** A refused executor value: the field, the value, and the client update API's message for it. */
    record Refused(String field, String value, String message) {
        @Override
        public String toString() {
            return field + "=" + value;
        }
    }

    static List<Refused> refusals() {
        return List.of(
                new Refused("grace-seconds", "301", "refresh.guard.grace.seconds accepts an integer from 0 to 300; got '301'"),
                new Refused("grace-seconds", "ten", "refresh.guard.grace.seconds accepts an integer from 0 to 300; got 'ten'"),
                new Refused("idle-seconds", "-1", "refresh.guard.idle.seconds accepts an integer >= 0 (0 = no limit of its own); got '-1'"),
                new Refused("offline-max-seconds", "1h",
                        "refresh.guard.offline.max.seconds accepts an integer >= 0 (0 = no limit of its own); got '1h'"),
                new Refused("rotation", "sometimes", "refresh.guard.rotation accepts 'on' or 'off'; got 'sometimes'"),
                new Refused("reuse-action", "revoke-everything", "refresh.guard.reuse.action accepts one of revoke-family,"
                        + " revoke-user-session, revoke-all-sessions, alert-only; got 'revoke-everything'"),
                new Refused("notify-user", "yes", "refresh.guard.notify.user accepts 'true' or 'false'; got 'yes'"));
    }

    @ParameterizedTest(name = "profile refused: {0}")
    @MethodSource("refusals")
    void aRefusedValueIsRefusedWhenTheProfileIsSavedWithTheRestApisMessage(Refused refused) {
        assertThat(policies.putProfile(PROFILE, Map.of("grace-seconds", "5")).status()).isEqualTo(204);
        Reply reply = policies.putProfile(PROFILE, Map.of(refused.field(), refused.value()));
        assertThat(reply.status()).as("%s", reply).isEqualTo(400);
        assertThat(reply.text("errorMessage")).isEqualTo(refused.message());
        assertThat(policies.storedConfiguration(PROFILE)).as("the stored profile is unchanged").isEqualTo(Map.of("grace-seconds", "5"));
    }

    @Test
    void maxBelowIdleIsRefusedWhenTheProfileIsSaved() {
        Reply reply = policies.putProfile(PROFILE, Map.of("idle-seconds", "120", "max-seconds", "60"));
        assertThat(reply.status()).as("%s", reply).isEqualTo(400);
        assertThat(reply.text("errorMessage"))
                .isEqualTo("refresh.guard.max.seconds accepts 0 or a value >= refresh.guard.idle.seconds (120); got '60'");
    }

    @Test
    void rotationOffIsRefusedWhenAPublicClientWithoutDpopIsSaved() {
        assertThat(policies.putProfile(PROFILE, Map.of("rotation", "off")).status()).isEqualTo(204);
        policies.putPolicy(POLICY, PROFILE, ROLE);
        Reply reply = policies.saveClient("spa");
        assertThat(reply.status()).as("%s", reply).isEqualTo(400);
        assertThat(reply.text("error")).isEqualTo("invalid_input");
        assertThat(reply.text("error_description")).isEqualTo("refresh.guard.rotation accepts 'off' only for confidential clients or"
                + " public clients that require DPoP-bound tokens (RFC 9700 section 2.2.2); got 'off' on a public client");
        assertThat(source("spa", "refresh.guard.rotation")).isEqualTo("default");
    }

    private JsonNode policy(String clientId) {
        return realm.admin.ok("GET", "/" + realm.name + "/refresh-guard/policy?client_id=" + clientId, null).json().path("attributes");
    }

    private String source(String clientId, String key) {
        return policy(clientId).path(key).path("source").asText();
    }

    private static List<String> options(JsonNode property) {
        List<String> out = new ArrayList<>();
        property.path("options").forEach(o -> out.add(o.asText()));
        return out;
    }
}
