package dev.refreshguard.alert;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.DistributionServer;
import dev.refreshguard.harness.Http;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.ServerLog;
import dev.refreshguard.harness.TestRealm;

/**
 * A server of its own with Keycloak's JSON console log ({@code --log-console-output=json}): the alert is one JSON
 * record on logger {@code dev.refreshguard.alert} at WARN, and its {@code message} is the alert's JSON.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JsonConsoleLogIT {

    private static final String USER_AGENT = "RG-JsonConsoleLogIT/1.0 (\"json\" in json)";

    private DistributionServer server;

    @BeforeAll
    void start() {
        server = DistributionServer.startFromCopy("json-log", "rg_it_json_" + System.currentTimeMillis(),
                List.of("--log-console-output=json"), Map.of());
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void theAlertIsOneJsonRecordWhoseMessageIsTheAlertJson() {
        TestRealm realm = TestRealm.guarded(server, "alerts-json", Map.of());
        Oidc spa = realm.spa();
        String first = spa.password("alice", "alice").text("refresh_token");
        String familyId = Oidc.claims(first).get("rg_fid").asText();
        assertThat(spa.refresh(first).status()).isEqualTo(200);
        Oidc.expectReuseDetected(spa.refresh(first, Map.of("User-Agent", USER_AGENT)));

        ServerLog log = new ServerLog(server.logFile());
        JsonNode record = Await.value(Duration.ofSeconds(30), "the JSON log record of family " + familyId,
                () -> log.lines().stream().map(JsonConsoleLogIT::record).flatMap(Optional::stream)
                        .filter(r -> AlertChannels.LOG_CATEGORY.equals(r.path("loggerName").asText()))
                        .filter(r -> r.path("message").asText().contains(familyId))
                        .findFirst().orElse(null));

        assertThat(record.get("level").asText()).isEqualTo("WARN");
        assertThat(record.hasNonNull("timestamp")).isTrue();
        JsonNode alert = ServerLog.parse(record.get("message").asText());
        assertThat(alert.get("alert").asText()).isEqualTo(AlertVocabulary.ERROR_REUSED);
        assertThat(alert.get("realm").asText()).isEqualTo(realm.name);
        assertThat(alert.get("client_id").asText()).isEqualTo("spa");
        assertThat(alert.get("user_id").asText()).isEqualTo(realm.userIds.get("alice"));
        assertThat(alert.get("family_id").asText()).isEqualTo(familyId);
        assertThat(alert.get("user_agent").asText()).isEqualTo(USER_AGENT);
        assertThat(alert.get("action").asText()).isEqualTo("revoke-family");
    }

    private static Optional<JsonNode> record(String line) {
        if (!line.startsWith("{")) {
            return Optional.empty(); // kc.sh's own words before the server starts logging
        }
        try {
            return Optional.of(Http.JSON.readTree(line));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
