package dev.refreshguard.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.refreshguard.harness.ConsoleBrowser;
import dev.refreshguard.harness.DistributionServer;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.TestRealm;

/**
 * An admin sets the realm's defaults and alert address in the real Keycloak 26.7.3 admin console, in headless
 * Chromium: Realm settings → tab refresh-guard → grace, reuse action, alert email → Save. This needs the experimental
 * feature declarative-ui, so the journey runs on a server of its own started with it; the shared server stays
 * without it, and there the tab is simply not there. The realm's attributes change (admin REST API), a client
 * without values of its own gets them (effective policy, and a grace replay in a refresh), and a refused value shows
 * Keycloak's error notification with the admin API's message while nothing is stored. Screenshots go to
 * target/console-screenshots/realm-tab-*.png.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RealmDefaultsConsoleJourneyIT {

    private static final String TAB = "refresh-guard";
    private static final String TAB_TYPE = "org.keycloak.services.ui.extend.UiTabProvider";
    private static final List<String> FIELDS = List.of("rotation", "reuse-action", "reuse-action-likely-retry",
            "reuse-retry-seconds", "grace-seconds", "idle-seconds", "max-seconds", "offline-idle-seconds", "offline-max-seconds",
            "notify-user", "alert-email", "wasnt-me-seconds", "wasnt-me-update-password");

    @RegisterExtension
    final ConsoleBrowser browser = new ConsoleBrowser();

    private DistributionServer declarative;
    private TestRealm realm;

    @BeforeAll
    void aServerWithTheDeclarativeUi() {
        declarative = DistributionServer.startFromCopy("declarative-ui", "rg_declarative_" + System.currentTimeMillis(),
                List.of("--features=declarative-ui"), Map.of());
        // A realm default set before the tab existed (kcadm, REST): the tab's first save must not remove it.
        realm = TestRealm.guarded(declarative, "realmtab", Map.of("refresh.guard.idle.seconds", "600"));
    }

    @AfterAll
    void stop() {
        if (declarative != null) {
            declarative.close();
        }
    }

    @Test
    void withTheFeatureTheTabHasAFieldForEveryRealmAttributeAndReportsTheVersion() {
        JsonNode info = realm.admin.admin("GET", "/serverinfo", null).json();
        assertThat(declarativeUi(info)).isTrue();
        JsonNode tab = tabType(info);
        assertThat(tab).as("ui-tab refresh-guard in server info").isNotNull();
        List<String> names = new ArrayList<>();
        tab.path("properties").forEach(p -> names.add(p.path("name").asText()));
        assertThat(names).containsExactlyElementsOf(FIELDS);
        assertThat(tab.path("metadata").path("path").asText()).isEqualTo("/:realm/realm-settings/:tab?");
        assertThat(tab.path("metadata").path("params").path("tab").asText()).isEqualTo(TAB);
        assertThat(info.path("providers").path("ui-tab").path("providers").path("refresh-guard").path("operationalInfo")
                .path("version").asText()).isEqualTo(System.getProperty("guard.version"));
    }

    /**
     * Without the feature Keycloak 26.7.3 still loads the ui-tab SPI and lists the tab's type in server info, but the
     * console, which asks the feature, shows no tab; the rest of refresh-guard is unaffected.
     */
    @Test
    void withoutTheFeatureTheSharedServerShowsNoTab(KeycloakServer shared) {
        TestRealm plain = TestRealm.guarded(shared, "notab", Map.of());
        JsonNode info = plain.admin.admin("GET", "/serverinfo", null).json();
        assertThat(declarativeUi(info)).isFalse();
        assertThat(info.path("componentTypes").path("org.keycloak.services.clientpolicy.executor.ClientPolicyExecutorProvider")
                .findValuesAsText("id")).contains("refresh-guard");
        browser.prefix("realm-tab-without-feature");
        AdminConsole console = new AdminConsole(shared, browser);
        console.logIn();
        console.openRealm(plain.name);
        List<String> tabs = console.realmSettingsTabs();
        assertThat(tabs).contains("General", "Client policies").doesNotContain(TAB);
        assertThat(plain.admin.ok("GET", "/" + plain.name + "/components?type=" + TAB_TYPE, null).json().size()).isZero();
    }

    @Test
    void adminSetsTheRealmDefaultsAndTheAlertAddressInTheConsole() {
        browser.prefix("realm-tab");
        assertThat(effective("refresh.guard.grace.seconds").path("source").asText()).isEqualTo("default");
        assertThat(effective("refresh.guard.idle.seconds").path("source").asText()).isEqualTo("realm");

        AdminConsole console = new AdminConsole(declarative, browser);
        console.logIn();
        console.openRealm(realm.name);
        console.openRealmTab(TAB);
        console.saveRealmTab(Map.of("grace-seconds", "30", "alert-email", "soc@example.com"), Map.of("reuse-action", "alert-only"));
        String saved = console.anyNotification();
        browser.snap("saved");
        assertThat(saved).isEqualTo("Saved successfully");

        // The console stored a component of the realm; the realm's attributes are what refresh-guard reads.
        JsonNode components = realm.admin.ok("GET", "/" + realm.name + "/components?type=" + TAB_TYPE, null).json();
        assertThat(components.size()).isEqualTo(1);
        JsonNode component = components.get(0);
        assertThat(component.path("providerId").asText()).isEqualTo(TAB);
        assertThat(component.path("parentId").asText()).isEqualTo(realmId());
        assertThat(component.path("config").path("grace-seconds").get(0).asText()).isEqualTo("30");
        assertThat(component.path("config").path("idle-seconds").get(0).asText()).as("carried over on the first save").isEqualTo("600");
        assertThat(realmAttributes()).containsEntry("refresh.guard.grace.seconds", "30")
                .containsEntry("refresh.guard.reuse.action", "alert-only")
                .containsEntry("refresh.guard.alert.email", "soc@example.com")
                .containsEntry("refresh.guard.idle.seconds", "600")
                .doesNotContainKeys("refresh.guard.rotation", "refresh.guard.max.seconds", "refresh.guard.notify.user");

        // The spa has no values of its own: the realm's apply.
        for (Map.Entry<String, String> expected : Map.of("refresh.guard.grace.seconds", "30", "refresh.guard.reuse.action", "alert-only",
                "refresh.guard.alert.email", "soc@example.com", "refresh.guard.idle.seconds", "600").entrySet()) {
            JsonNode setting = effective(expected.getKey());
            assertThat(setting.path("value").asText()).as(expected.getKey()).isEqualTo(expected.getValue());
            assertThat(setting.path("source").asText()).as(expected.getKey()).isEqualTo("realm");
        }

        // Grace 30: presenting the rotated-away token again at once is a grace replay, not reuse.
        realm.spa().expectGraceReplay("alice", "alice");

        // Opened again, the tab shows what was saved; a value the admin API refuses is refused, nothing is stored.
        console.openRealmTab(TAB);
        console.awaitFieldValue("grace-seconds", "30");
        assertThat(console.fieldValue("idle-seconds")).isEqualTo("600");
        console.saveRealmTab(Map.of("grace-seconds", "999"), Map.of());
        String refusal = console.notification("refresh.guard.grace.seconds");
        browser.snap("refused");
        assertThat(refusal).startsWith("Error could not save item!")
                .contains("refresh.guard.grace.seconds accepts an integer from 0 to 300; got '999'");
        assertThat(realmAttributes()).containsEntry("refresh.guard.grace.seconds", "30");
        assertThat(realm.admin.ok("GET", "/" + realm.name + "/components?type=" + TAB_TYPE, null).json().get(0)
                .path("config").path("grace-seconds").get(0).asText()).isEqualTo("30");
        assertThat(effective("refresh.guard.grace.seconds").path("value").asText()).isEqualTo("30");
    }

    private static boolean declarativeUi(JsonNode serverInfo) {
        for (JsonNode feature : serverInfo.path("features")) {
            if (feature.path("name").asText().equals("DECLARATIVE_UI")) {
                return feature.path("enabled").asBoolean();
            }
        }
        throw new AssertionError("no feature DECLARATIVE_UI in server info");
    }

    private static JsonNode tabType(JsonNode serverInfo) {
        for (JsonNode type : serverInfo.path("componentTypes").path(TAB_TYPE)) {
            if (type.path("id").asText().equals(TAB)) {
                return type;
            }
        }
        return null;
    }

    private String realmId() {
        return realm.admin.ok("GET", "/" + realm.name, null).json().path("id").asText();
    }

    private Map<String, String> realmAttributes() {
        Map<String, String> out = new java.util.HashMap<>();
        realm.admin.ok("GET", "/" + realm.name, null).json().path("attributes").fields()
                .forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    private JsonNode effective(String key) {
        return realm.admin.ok("GET", "/" + realm.name + "/refresh-guard/policy?client_id=spa", null).json().path("attributes").path(key);
    }
}
