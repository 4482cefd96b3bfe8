package dev.refreshguard.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.keycloak.component.ComponentModel;
import org.keycloak.component.ComponentValidationException;
import org.keycloak.provider.ProviderConfigProperty;

class RealmDefaultsTest {

    @Test
    void everyRealmAttributeHasAFieldAndBlankOrDefaultAsksForNone() {
        Map<String, String> form = new HashMap<>();
        form.put("grace-seconds", " 30 ");
        form.put("reuse-action", "alert-only");
        form.put("rotation", "default");
        form.put("idle-seconds", "");
        form.put("alert-email", "soc@example.com");
        // Newer consoles add their route params to the saved form (26.7.3 does not): they are no field.
        form.put("tab", "refresh-guard");
        form.put("realm", "myrealm");
        Map<String, String> values = RealmDefaults.values(form::get);
        assertThat(values.keySet()).containsExactly("refresh.guard.rotation", "refresh.guard.reuse.action",
                "refresh.guard.reuse.action.likely-retry", "refresh.guard.reuse.retry.seconds", "refresh.guard.grace.seconds", "refresh.guard.idle.seconds", "refresh.guard.max.seconds",
                "refresh.guard.offline.idle.seconds", "refresh.guard.offline.max.seconds", "refresh.guard.notify.user",
                "refresh.guard.alert.email", "refresh.guard.wasnt.me.seconds", "refresh.guard.wasnt.me.update.password");
        assertThat(values).containsEntry("refresh.guard.grace.seconds", "30").containsEntry("refresh.guard.reuse.action", "alert-only")
                .containsEntry("refresh.guard.alert.email", "soc@example.com")
                .containsEntry("refresh.guard.rotation", null).containsEntry("refresh.guard.idle.seconds", null);
    }

    @Test
    void theTabShowsTheAlertAddressAndTheExecutorDoesNot() {
        List<String> tab = new RealmDefaultsTabFactory().getConfigProperties().stream().map(ProviderConfigProperty::getName).toList();
        List<String> executor = new GuardExecutorFactory().getConfigProperties().stream().map(ProviderConfigProperty::getName).toList();
        assertThat(tab).containsExactly("rotation", "reuse-action", "reuse-action-likely-retry", "reuse-retry-seconds",
                "grace-seconds", "idle-seconds", "max-seconds", "offline-idle-seconds", "offline-max-seconds", "notify-user",
                "alert-email", "wasnt-me-seconds", "wasnt-me-update-password");
        assertThat(executor).containsExactlyElementsOf(tab.subList(0, 10));
        assertThat(new GuardExecutorFactory().getConfigProperties().get(2).getOptions()).containsExactly("keep", "revoke-family",
                "revoke-user-session", "revoke-all-sessions", "alert-only", "refuse");
        ProviderConfigProperty action = new RealmDefaultsTabFactory().getConfigProperties().get(1);
        assertThat(action.getOptions()).containsExactly("default", "revoke-family", "revoke-user-session", "revoke-all-sessions", "alert-only");
        assertThat(action.getDefaultValue()).isEqualTo("default");
    }

    @Test
    void refusedValuesGetTheAdminApiMessagesAndARealmWideRotationOffIsAllowed() {
        assertThat(RealmDefaults.problems(values(Map.of("grace-seconds", "300", "rotation", "off")))).isEmpty();
        assertThat(RealmDefaults.problems(values(Map.of("grace-seconds", "999", "alert-email", "nobody"))))
                .containsExactly("refresh.guard.grace.seconds accepts an integer from 0 to 300; got '999'",
                        "refresh.guard.alert.email accepts an email address (realm attribute only); got 'nobody'");
        assertThat(RealmDefaults.problems(values(Map.of("offline-idle-seconds", "120", "offline-max-seconds", "60"))))
                .containsExactly("refresh.guard.offline.max.seconds accepts 0 or a value >= refresh.guard.offline.idle.seconds (120); got '60'");
    }

    @Test
    void theFactoryRefusesWithTheMessageAsItIs() {
        ComponentModel model = new ComponentModel();
        model.setId("saved-before");
        model.put("grace-seconds", "999");
        assertThatThrownBy(() -> new RealmDefaultsTabFactory().validateConfiguration(null, null, model))
                .isInstanceOf(ComponentValidationException.class)
                .hasMessage("{0}")
                .satisfies(e -> assertThat(((ComponentValidationException) e).getParameters())
                        .containsExactly("refresh.guard.grace.seconds accepts an integer from 0 to 300; got '999'"));
    }

    @Test
    void aFirstSaveKeepsTheRealmsEarlierValuesInTheFieldsLeftBlank() {
        Map<String, String> realm = Map.of("refresh.guard.idle.seconds", "600", "refresh.guard.grace.seconds", "5",
                "refresh.guard.max.seconds", "not-a-number", "refresh.guard.reuse.action", "alert-only");
        Map<String, String> form = Map.of("grace-seconds", "30", "reuse-action", "default");
        assertThat(RealmDefaults.carriedOver(RealmDefaults.values(form::get), realm::get))
                .containsExactly(Map.entry("reuse-action", "alert-only"), Map.entry("idle-seconds", "600"));
    }

    private static Map<String, String> values(Map<String, String> form) {
        return RealmDefaults.values(form::get);
    }
}
