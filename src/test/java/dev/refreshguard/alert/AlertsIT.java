package dev.refreshguard.alert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.FamilyEvents;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.ServerLog;
import dev.refreshguard.harness.TestRealm;

/** What a security team's log pipeline and dashboards get from a reuse: one JSON line at WARN, and counters. */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AlertsIT {

    /** Quotes, a backslash and markup: the line must stay one valid JSON object. */
    static final String USER_AGENT = "RG-AlertsIT/1.0 (\"quoted\" \\ <b>x</b>)";
    private static final Map<String, String> AS_BROWSER = Map.of("User-Agent", USER_AGENT);

    private KeycloakServer server;
    private ServerLog log;

    @BeforeAll
    void server(KeycloakServer server) {
        this.server = server;
        this.log = new ServerLog(server.logFile());
    }

    @Test
    void everyReuseWritesOneJsonLineAtWarnWithEveryFact() {
        TestRealm realm = TestRealm.guarded(server, "alerts-log", Map.of());
        Oidc spa = realm.spa();
        Reply login = spa.password("alice", "alice");
        String first = login.text("refresh_token");
        String familyId = Oidc.claims(first).get("rg_fid").asText();
        assertThat(spa.refresh(first, AS_BROWSER).status()).isEqualTo(200);

        Instant before = Instant.now().minusSeconds(1);
        Reply reuse = spa.refresh(first, AS_BROWSER);
        Instant after = Instant.now().plusSeconds(1);
        Oidc.expectReuseDetected(reuse);

        JsonNode line = log.awaitAlertOfFamily(familyId);
        JsonNode event = FamilyEvents.only(realm.admin, realm.name, AlertVocabulary.ERROR_REUSED, familyId);
        String loopback = event.get("ipAddress").asText();
        assertThat(loopback).isIn("127.0.0.1", "0:0:0:0:0:0:0:1", "::1");

        assertThat(line.get("alert").asText()).isEqualTo("refresh_token_reused");
        assertThat(line.get("realm").asText()).isEqualTo(realm.name);
        assertThat(line.get("client_id").asText()).isEqualTo("spa");
        assertThat(line.get("user_id").asText()).isEqualTo(realm.userIds.get("alice"));
        assertThat(line.get("session_id").asText()).isEqualTo(login.text("session_state")).isEqualTo(event.get("sessionId").asText());
        assertThat(line.get("ip_address").asText()).isEqualTo(loopback);
        assertThat(line.get("first_use_ip").asText()).isEqualTo(loopback);
        assertThat(line.get("user_agent").asText()).isEqualTo(USER_AGENT);
        assertThat(line.get("family_id").asText()).isEqualTo(familyId);
        assertThat(line.get("generation").asInt()).isZero();
        assertThat(line.get("latest_generation").asInt()).isEqualTo(1);
        assertThat(line.get("seconds_since_rotation").asLong()).isBetween(0L, 60L);
        assertThat(line.get("action").asText()).isEqualTo("revoke-family");
        assertThat(line.get("sessions_revoked").asInt()).isEqualTo(1)
                .isEqualTo(event.path("details").path("sessions_revoked").asInt());
        assertThat(Instant.parse(line.get("timestamp").asText())).isBetween(before, after);
        // the line and the event tell the same story
        assertThat(event.path("details").path("generation").asText()).isEqualTo("0");
        assertThat(event.path("details").path("latest_generation").asText()).isEqualTo("1");
        assertThat(event.path("details").path("first_use_ip").asText()).isEqualTo(loopback);

        // One line per reuse: a later use of the revoked family is refused, but is no new reuse.
        Oidc.expectFamilyRevokedAfterReuse(spa.refresh(first, AS_BROWSER));
        FamilyEvents.only(realm.admin, realm.name, AlertVocabulary.ERROR_FAMILY_REVOKED, familyId);
        Await.exactly(1, Duration.ofSeconds(30), "alert lines of family " + familyId, () -> log.alertsOfFamily(familyId));
        FamilyEvents.only(realm.admin, realm.name, AlertVocabulary.ERROR_REUSED, familyId);
    }

    @Test
    void alertOnlyReuseIsServedAndStillWritesItsLine() {
        TestRealm realm = TestRealm.guarded(server, "alerts-only", Map.of("refresh.guard.reuse.action", "alert-only"));
        Oidc spa = realm.spa();
        String first = spa.password("bob", "bob").text("refresh_token");
        String familyId = Oidc.claims(first).get("rg_fid").asText();
        assertThat(spa.refresh(first).status()).isEqualTo(200);
        assertThat(spa.refresh(first, AS_BROWSER).status()).isEqualTo(200);

        JsonNode line = log.awaitAlertOfFamily(familyId);
        assertThat(line.get("action").asText()).isEqualTo("alert-only");
        assertThat(line.get("sessions_revoked").asInt()).isZero();
        assertThat(line.get("user_id").asText()).isEqualTo(realm.userIds.get("bob"));
    }

    @Test
    void countersOnTheMetricsEndpointCountExactlyWhatHappened() {
        TestRealm realm = TestRealm.guarded(server, "alerts-metrics", Map.of("refresh.guard.grace.seconds", "60"));
        realm.clientAttributes("other", Map.of("refresh.guard.reuse.action", "alert-only"));
        Prometheus prometheus = new Prometheus(server);
        Map<String, Double> before = prometheus.scrape();

        // spa: one grace replay, then one reuse that revokes the family
        Oidc spa = realm.spa();
        String t0 = spa.password("alice", "alice").text("refresh_token");
        String t1 = spa.refresh(t0).text("refresh_token");
        Reply replay = spa.refresh(t0);
        assertThat(replay.status()).isEqualTo(200);
        assertThat(replay.text("refresh_token")).isEqualTo(t1);
        assertThat(spa.refresh(t1).status()).isEqualTo(200);
        Oidc.expectReuseDetected(spa.refresh(t0));
        // other (alert-only): two reuses, nothing revoked
        Oidc other = realm.oidc("other");
        String o0 = other.password("bob", "bob").text("refresh_token");
        String o1 = other.refresh(o0).text("refresh_token");
        assertThat(other.refresh(o1).status()).isEqualTo(200);
        assertThat(other.refresh(o0).status()).isEqualTo(200);
        assertThat(other.refresh(o0).status()).isEqualTo(200);

        Map<String, Double> after = prometheus.scrape();
        for (Increment expected : List.of(
                // Tokens older than the last rotation: nothing is known of their first use, so the verdict is inconclusive.
                new Increment("refresh_guard_reuse_total", Map.of("client", "spa", "action", "revoke-family", "verdict", "inconclusive"), 1.0),
                new Increment("refresh_guard_reuse_total", Map.of("client", "spa", "action", "alert-only", "verdict", "inconclusive"), 0.0),
                new Increment("refresh_guard_reuse_total", Map.of("client", "other", "action", "alert-only", "verdict", "inconclusive"), 2.0),
                new Increment("refresh_guard_reuse_total", Map.of("client", "other", "action", "revoke-family", "verdict", "inconclusive"), 0.0),
                new Increment("refresh_guard_grace_replay_total", Map.of("client", "spa"), 1.0),
                new Increment("refresh_guard_grace_replay_total", Map.of("client", "other"), 0.0),
                new Increment("refresh_guard_family_revoked_total", Map.of("client", "spa"), 1.0),
                new Increment("refresh_guard_family_revoked_total", Map.of("client", "other"), 0.0))) {
            Map<String, String> labels = new java.util.HashMap<>(expected.labels());
            labels.put("realm", realm.name);
            // A fresh realm: before, none of its series exists; a counter is registered at its first increment.
            assertThat(Prometheus.sample(before, expected.counter(), labels)).as("%s%s before", expected.counter(), labels).isEmpty();
            if (expected.by() > 0) {
                assertThat(Prometheus.value(after, expected.counter(), labels)).as("%s%s", expected.counter(), labels)
                        .isCloseTo(expected.by(), within(0.0001));
            } else {
                OptionalDouble none = Prometheus.sample(after, expected.counter(), labels);
                assertThat(none.isEmpty() || none.getAsDouble() == 0).as("%s%s absent or 0: %s", expected.counter(), labels, none).isTrue();
            }
        }
        assertThat(after.keySet()).as("the counters are exported under their documented names")
                .anyMatch(k -> k.startsWith("refresh_guard_reuse_total{") && k.contains("realm=" + realm.name));
    }

    /** A counter, its labels besides the realm, and how much the test expects it to grow. */
    private record Increment(String counter, Map<String, String> labels, double by) {
    }
}
