package dev.refreshguard.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import dev.refreshguard.harness.Admin;
import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.DistributionServer;
import dev.refreshguard.harness.Http;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.ServerLog;

/**
 * A realm file imported at startup ({@code --import-realm}) with invalid refresh-guard values: the server starts, the
 * import is not refused, refreshes work with the defaults, each bad value is logged once at ERROR, and the policy
 * endpoint shows them invalid. Its own server, since the import happens only at startup.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ImportedPolicyIT {

    private static final String REALM = "imported-at-startup";

    private DistributionServer server;

    @BeforeAll
    void start() throws IOException {
        Path importDir = Path.of(System.getProperty("keycloak.home"), "data", "import");
        Files.createDirectories(importDir);
        Map<String, Object> realm = Map.of(
                "realm", REALM,
                "enabled", true,
                "eventsListeners", List.of("jboss-logging", "refresh-guard"),
                "attributes", Map.of("refresh.guard.grace.seconds", "999"),
                "clients", List.of(Map.of("clientId", "spa", "publicClient", true, "directAccessGrantsEnabled", true,
                        "redirectUris", List.of("http://localhost/cb"),
                        "attributes", Map.of("refresh.guard.idle.seconds", "forever", "refresh.guard.rotation", "off"))),
                "users", List.of(Map.of("username", "alice", "enabled", true, "email", "alice@example.com",
                        "emailVerified", true, "firstName", "alice", "lastName", "Test",
                        "credentials", List.of(Map.of("type", "password", "value", "alice", "temporary", false)))));
        Files.writeString(importDir.resolve(REALM + "-realm.json"), Http.JSON.writeValueAsString(realm));
        try {
            server = DistributionServer.start("rg_import_" + System.currentTimeMillis(), List.of("--import-realm"), Map.of());
        } finally {
            // Only this server imports it.
            Files.deleteIfExists(importDir.resolve(REALM + "-realm.json"));
        }
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void badImportedValuesFallBackToTheDefaults() {
        ServerLog log = new ServerLog(server);
        assertThat(log.lines(l -> l.contains(" WARN ") && l.contains("imported client 'spa' of realm '" + REALM + "'")))
                .singleElement().asString().contains("refresh.guard.idle.seconds", "refresh.guard.rotation");

        Oidc spa = new Oidc(server, REALM, "spa", null);
        Reply login = spa.password("alice", "alice");
        assertThat(login.status()).as("%s", login).isEqualTo(200);
        Reply refreshed = spa.refresh(login.text("refresh_token"));
        assertThat(refreshed.status()).as("%s", refreshed).isEqualTo(200);
        // rotation fell back to 'on' (a public client without DPoP): the old token is now reuse.
        Oidc.expectReuseDetected(spa.refresh(login.text("refresh_token")));

        JsonNode attributes = new Admin(server).ok("GET", "/" + REALM + "/refresh-guard/policy?client_id=spa", null)
                .json().get("attributes");
        assertThat(attributes.get("refresh.guard.idle.seconds").get("valid").asBoolean()).isFalse();
        assertThat(attributes.get("refresh.guard.idle.seconds").get("source").asText()).isEqualTo("client");
        assertThat(attributes.get("refresh.guard.rotation").get("value").asText()).isEqualTo("on");
        assertThat(attributes.get("refresh.guard.grace.seconds").get("source").asText()).isEqualTo("realm");
        assertThat(attributes.get("refresh.guard.grace.seconds").get("rejectedValue").asText()).isEqualTo("999");

        // One ERROR line per bad value, and no second one within a settle window.
        for (String key : List.of("refresh.guard.idle.seconds", "refresh.guard.rotation", "refresh.guard.grace.seconds")) {
            Await.exactlyOne(Duration.ofSeconds(30), "ERROR line about " + key, () -> log.errors("realm '" + REALM + "'", key));
        }
    }
}
