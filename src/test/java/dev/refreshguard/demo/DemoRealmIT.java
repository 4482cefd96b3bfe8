package dev.refreshguard.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.Admin;
import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.FamilyEvents;
import dev.refreshguard.harness.Http;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.RealServer;

/**
 * The demo's realm file (demo/demo-realm.json, also used by docker/) imported into the real server, and the
 * walk-through that demo/run.sh prints, step by step over HTTP: so CI proves the demo keeps working.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DemoRealmIT {

    private static final Path REALM_FILE = Path.of(System.getProperty("project.basedir", "."), "demo", "demo-realm.json");

    private KeycloakServer server;
    private Admin admin;
    private JsonNode file;
    private String realm;

    @BeforeAll
    void importTheDemoRealm(KeycloakServer server) throws IOException {
        this.server = server;
        this.admin = new Admin(server);
        file = Http.JSON.readTree(Files.readString(REALM_FILE));
        // The file's realm under a name of its own, so this class never meets another's state.
        realm = "demo-" + UUID.randomUUID().toString().substring(0, 8);
        ObjectNode copy = file.deepCopy();
        copy.put("realm", realm);
        admin.ok("POST", "", copy);
    }

    @Test
    void theFileHoldsTheDemoTheReadmeDescribes() {
        assertThat(file.get("realm").asText()).isEqualTo("demo");

        JsonNode imported = admin.ok("GET", "/" + realm, null).json();
        assertThat(texts(imported.get("eventsListeners"))).contains("refresh-guard");
        assertThat(imported.get("eventsEnabled").asBoolean()).isTrue();
        assertThat(texts(imported.get("enabledEventTypes"))).contains("REFRESH_TOKEN", "REFRESH_TOKEN_ERROR");

        JsonNode spa = client("demo-spa");
        assertThat(spa.get("publicClient").asBoolean()).isTrue();
        assertThat(spa.get("directAccessGrantsEnabled").asBoolean()).isTrue();
        assertThat(spa.path("attributes").path("refresh.guard.grace.seconds").asText()).isEqualTo("10");

        JsonNode api = client("demo-api");
        assertThat(api.get("publicClient").asBoolean()).isFalse();

        JsonNode alice = admin.ok("GET", "/" + realm + "/users?username=alice&exact=true", null).json().get(0);
        assertThat(alice.get("emailVerified").asBoolean()).isTrue();
    }

    @Test
    void theWalkThroughCatchesAReuse() {
        Oidc spa = new Oidc(server, realm, "demo-spa", null);
        Oidc api = new Oidc(server, realm, "demo-api", fileClient("demo-api").get("secret").asText());
        int grace = Integer.parseInt(fileClient("demo-spa").path("attributes").path("refresh.guard.grace.seconds").asText());

        // 1. alice logs in to demo-spa (password grant): RT1
        Reply login = spa.password("alice", "alice");
        assertThat(login.status()).as("login: %s", login).isEqualTo(200);
        String rt1 = login.text("refresh_token");

        // 2. the app refreshes: RT1 is rotated to RT2
        Reply refreshed = spa.refresh(rt1);
        long rotatedBy = Instant.now().getEpochSecond();
        assertThat(refreshed.status()).as("refresh: %s", refreshed).isEqualTo(200);
        String rt2 = refreshed.text("refresh_token");
        String at2 = refreshed.text("access_token");
        assertThat(rt2).isNotEqualTo(rt1);
        assertThat(api.introspect(at2).json().get("active").asBoolean()).as("RT2's access token is live").isTrue();

        // 3. a retry with RT1 within the grace gets the very same RT2
        Reply retry = spa.refresh(rt1);
        assertThat(retry.status()).as("grace retry: %s", retry).isEqualTo(200);
        assertThat(retry.text("refresh_token")).isEqualTo(rt2);

        // 4. after the grace, RT1 again: reuse caught
        Await.pastEpochSecond(rotatedBy + grace);
        Oidc.expectReuseDetected(spa.refresh(rt1));

        // 5. the family is revoked: RT2 refused, RT2's access token no longer active
        Oidc.expectFamilyRevokedAfterReuse(spa.refresh(rt2));
        Reply introspection = api.introspect(at2);
        assertThat(introspection.status()).isEqualTo(200);
        assertThat(introspection.json().get("active").asBoolean()).isFalse();

        // 6. the alert: one REFRESH_TOKEN_ERROR event with error refresh_token_reused, and the JSON log line
        String familyId = Oidc.claims(rt1).get("rg_fid").asText();
        JsonNode event = FamilyEvents.only(admin, realm, "refresh_token_reused");
        assertThat(event.get("clientId").asText()).isEqualTo("demo-spa");
        JsonNode details = event.get("details");
        assertThat(details.get("family_id").asText()).isEqualTo(familyId);
        assertThat(details.get("generation").asText()).isEqualTo("0");
        assertThat(details.get("latest_generation").asText()).isEqualTo("1");
        assertThat(details.get("action").asText()).isEqualTo("revoke-family");
        Await.until(Duration.ofSeconds(30), "the alert line in the server log", () -> logMentions(familyId));
    }

    private boolean logMentions(String familyId) {
        try {
            return Files.readAllLines(server.logFile()).stream()
                    .anyMatch(line -> line.contains("[dev.refreshguard.alert]") && line.contains("\"family_id\":\"" + familyId + "\""));
        } catch (IOException e) {
            return false;
        }
    }

    private JsonNode client(String clientId) {
        return admin.ok("GET", "/" + realm + "/clients?clientId=" + clientId, null).json().get(0);
    }

    private JsonNode fileClient(String clientId) {
        for (JsonNode c : file.get("clients")) {
            if (clientId.equals(c.get("clientId").asText())) {
                return c;
            }
        }
        throw new AssertionError(clientId + " is not in " + REALM_FILE);
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
