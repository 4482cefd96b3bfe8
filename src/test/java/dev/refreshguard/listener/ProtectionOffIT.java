package dev.refreshguard.listener;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.Http;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.RealmAdmins;
import dev.refreshguard.harness.ServerLog;
import dev.refreshguard.harness.TestRealm;
import dev.refreshguard.policy.Protection;

/**
 * Issue 23, point 6: switching a realm's protection off (removing the {@code refresh-guard} listener, which needs only
 * {@code manage-events}) is loud: one WARN line on {@code dev.refreshguard.alert} naming realm and admin, one admin
 * event with details, and gauge {@code refresh_guard_realms_protected} drops.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProtectionOffIT {

    private static final Pattern GAUGE = Pattern.compile("(?m)^refresh_guard_realms_protected(?:\\{[^}]*\\})?\\s+(\\S+)$");

    private KeycloakServer server;
    private ServerLog log;

    @BeforeAll
    void server(KeycloakServer server) {
        this.server = server;
        this.log = new ServerLog(server);
    }

    @Test
    void anEventsAdminRemovingTheListenerIsLoggedEventedAndCounted() {
        TestRealm realm = TestRealm.guarded(server, "off-events", java.util.Map.of());
        ObjectNode config = (ObjectNode) realm.admin.ok("GET", "/" + realm.name + "/events/config", null).json();
        config.put("adminEventsEnabled", true);
        realm.admin.ok("PUT", "/" + realm.name + "/events/config", config);
        RealmAdmins admins = new RealmAdmins(realm);
        admins.create("eve", "manage-events", "view-events");
        String eve = admins.token("eve");
        double before = Await.value(Duration.ofSeconds(30), "the gauge", this::gauge);

        config.set("eventsListeners", Http.JSON.valueToTree(List.of("jboss-logging")));
        Reply removed = admins.call(eve, "PUT", "/events/config", config);
        assertThat(removed.status()).as("manage-events may remove the listener: %s", removed).isEqualTo(204);

        JsonNode line = Await.value(Duration.ofSeconds(30), "the protection-off alert line",
                () -> offLines(realm.name).stream().findFirst().orElse(null));
        assertThat(line.get("admin_username").asText()).isEqualTo("eve");
        assertThat(line.get("admin_realm").asText()).isEqualTo(realm.name);
        assertThat(line.get("admin_user_id").asText()).isEqualTo(realm.userIds.get("eve"));
        assertThat(line.get("protected").asText()).isEqualTo("false");

        JsonNode event = Await.value(Duration.ofSeconds(10), "the admin event", () -> adminEvents(realm).stream().findFirst().orElse(null));
        assertThat(event.get("operationType").asText()).isEqualTo("ACTION");
        assertThat(event.get("details").get("admin_username").asText()).isEqualTo("eve");
        assertThat(event.get("details").get("listener_removed").asText()).isEqualTo("refresh-guard");
        assertThat(event.get("authDetails").get("userId").asText()).isEqualTo(realm.userIds.get("eve"));

        Await.until(Duration.ofSeconds(30), "the gauge to drop by one", () -> gauge() == before - 1);
        // The realm never issued a token, so only the switch-off itself can have remembered it as once protected:
        // a realm switched off before its first token's remember landed keeps its bookkeeping all the same.
        assertThat(realm.admin.ok("GET", "/" + realm.name, null).json().path("attributes").has(Protection.SINCE))
                .as("remembered as protected at the switch-off").isTrue();

        // The next update of the unprotected realm raises nothing: exactly one line, one event.
        assertThat(admins.call(eve, "PUT", "/events/config", config).status()).isEqualTo(204);
        assertThat(offLines(realm.name)).hasSize(1);
        assertThat(adminEvents(realm)).hasSize(1);
    }

    @Test
    void aRealmUpdateWithoutTheListenerIsLoudToo() {
        TestRealm realm = TestRealm.guarded(server, "off-realm", java.util.Map.of());
        double before = Await.value(Duration.ofSeconds(30), "the gauge", this::gauge);
        ObjectNode rep = (ObjectNode) realm.admin.ok("GET", "/" + realm.name, null).json();
        rep.set("eventsListeners", Http.JSON.valueToTree(List.of("jboss-logging")));
        realm.admin.ok("PUT", "/" + realm.name, rep);
        JsonNode line = Await.value(Duration.ofSeconds(30), "the protection-off alert line",
                () -> offLines(realm.name).stream().findFirst().orElse(null));
        assertThat(line.get("admin_username").asText()).isEqualTo("admin");
        assertThat(line.get("admin_realm").asText()).isEqualTo("master");
        assertThat(offLines(realm.name)).hasSize(1);
        Await.until(Duration.ofSeconds(30), "the gauge to drop by one", () -> gauge() == before - 1);

        // Adding it back raises the gauge again and no alert.
        rep.set("eventsListeners", Http.JSON.valueToTree(List.of("jboss-logging", "refresh-guard")));
        realm.admin.ok("PUT", "/" + realm.name, rep);
        Await.until(Duration.ofSeconds(30), "the gauge back up", () -> gauge() == before);
        assertThat(offLines(realm.name)).hasSize(1);
    }

    private List<JsonNode> offLines(String realmName) {
        return log.alerts().stream().filter(a -> "refresh_guard_protection_off".equals(a.path("alert").asText())
                && realmName.equals(a.path("realm").asText())).toList();
    }

    private List<JsonNode> adminEvents(TestRealm realm) {
        List<JsonNode> out = new ArrayList<>();
        realm.admin.ok("GET", "/" + realm.name + "/admin-events?max=100", null).json().forEach(e -> {
            if ("REFRESH_GUARD_PROTECTION".equals(e.path("resourceType").asText())) {
                out.add(e);
            }
        });
        return out;
    }

    private Double gauge() {
        Reply reply = new Http().get(server.managementUrl() + "/metrics", null);
        Matcher m = GAUGE.matcher(reply.body());
        return reply.status() == 200 && m.find() ? Double.valueOf(m.group(1)) : null;
    }
}
