package dev.refreshguard.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.ConsoleBrowser;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.TestRealm;

/**
 * The admin's journey in the real Keycloak 26.7.3 admin console, in headless Chromium: turn protection on for a
 * stock realm by adding the event listener, switch on saving user events, then find a detected reuse on the
 * console's Events page. Screenshots of every step (and of a failure) go to target/console-screenshots/.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdminConsoleJourneyIT {

    @RegisterExtension
    final ConsoleBrowser browser = new ConsoleBrowser();

    private KeycloakServer server;
    private TestRealm realm;

    @BeforeAll
    void stockRealm(KeycloakServer server) {
        this.server = server;
        realm = TestRealm.stock(server, "console");
        // As a realm Keycloak creates by default: no events saved, Keycloak's default event types (these do not
        // include REFRESH_TOKEN_ERROR), only the jboss-logging listener.
        realm.admin.ok("PUT", "/" + realm.name + "/events/config", Map.of(
                "eventsEnabled", false, "enabledEventTypes", List.of(), "eventsListeners", List.of("jboss-logging")));
    }

    @Test
    void adminTurnsProtectionOnInTheConsoleAndSeesTheReuseAlertOnTheEventsPage() {
        browser.prefix("journey");
        AdminConsole console = new AdminConsole(server, browser);
        console.logIn();
        console.openRealm(realm.name);
        console.addEventListener("refresh-guard", List.of("jboss-logging"));

        JsonNode saved = realm.admin.ok("GET", "/" + realm.name, null).json();
        assertThat(texts(saved.get("eventsListeners"))).as("eventsListeners after saving in the console")
                .containsExactlyInAnyOrder("jboss-logging", "refresh-guard");

        console.saveUserEvents();
        JsonNode config = realm.admin.ok("GET", "/" + realm.name + "/events/config", null).json();
        assertThat(config.get("eventsEnabled").asBoolean()).as("Save events after saving in the console").isTrue();
        assertThat(texts(config.get("eventsListeners"))).contains("refresh-guard");
        // The alert is stored although the admin never picked REFRESH_TOKEN_ERROR as a saved type.
        assertThat(texts(config.get("enabledEventTypes"))).doesNotContain("REFRESH_TOKEN_ERROR");

        Oidc spa = realm.spa();
        Oidc.Rotated rotated = spa.loginAndRefresh("alice", "alice");
        Oidc.expectReuseDetected(spa.refresh(rotated.first()));

        JsonNode stored = Await.value(Duration.ofSeconds(30), "the reuse alert in the realm's event store", () ->
                realm.admin.events(realm.name, "REFRESH_TOKEN_ERROR", "refresh_token_reused").stream().findFirst().orElse(null));
        String familyId = stored.path("details").path("family_id").asText();
        assertThat(familyId).isNotBlank();

        console.openUserEvents();
        AdminConsole.EventRow row = console.expandEvent("REFRESH_TOKEN_ERROR", "family_id", familyId);
        assertThat(row.details()).containsEntry("error", "refresh_token_reused")
                .containsEntry("family_id", familyId)
                .containsEntry("generation", "0")
                .containsEntry("action", "revoke-family")
                .containsKeys("latest_generation", "seconds_since_rotation", "first_use_ip", "sessions_revoked");
        assertThat(row.cells()).contains("REFRESH_TOKEN_ERROR", realm.userIds.get("alice"), "spa");
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        if (array != null) {
            array.forEach(n -> out.add(n.asText()));
        }
        return out;
    }
}
