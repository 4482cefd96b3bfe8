package dev.refreshguard.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.keycloak.representations.idm.ClientRepresentation;
import org.keycloak.services.clientpolicy.ClientPolicyException;

class GuardExecutorTest {

    private static GuardExecutorConfiguration config(Map<String, Object> fields) {
        GuardExecutorConfiguration c = new GuardExecutorConfiguration();
        fields.forEach(c::setConfigAsMap);
        return c;
    }

    @Test
    void fieldsMapToTheAttributesTheyWriteAndBlankOrKeepWriteNothing() {
        Map<String, Object> fields = new HashMap<>();
        fields.put("grace-seconds", " 30 ");
        fields.put("reuse-action", "alert-only");
        fields.put("idle-seconds", "");
        fields.put("rotation", "keep");
        fields.put("offline-max-seconds", 7200);
        fields.put("notify-user", true);
        assertThat(config(fields).attributes()).containsExactly(
                Map.entry("refresh.guard.reuse.action", "alert-only"),
                Map.entry("refresh.guard.grace.seconds", "30"),
                Map.entry("refresh.guard.offline.max.seconds", "7200"),
                Map.entry("refresh.guard.notify.user", "true"));
    }

    @Test
    void aRefusedValueIsRefusedWithThePolicyMessage() {
        assertThat(config(Map.of("grace-seconds", "300")).validateConfig()).isTrue();
        assertThatThrownBy(() -> config(Map.of("grace-seconds", "301")).validateConfig())
                .isInstanceOf(ClientPolicyException.class)
                .hasMessage("refresh.guard.grace.seconds accepts an integer from 0 to 300; got '301'");
        assertThatThrownBy(() -> config(Map.of("idle-seconds", "120", "max-seconds", "60")).validateConfig())
                .isInstanceOf(ClientPolicyException.class)
                .hasMessage("refresh.guard.max.seconds accepts 0 or a value >= refresh.guard.idle.seconds (120); got '60'");
    }

    @Test
    void theExecutorWritesIntoTheProposedClientAndKeepsItsOtherAttributes() {
        GuardExecutor executor = new GuardExecutor();
        executor.setupConfiguration(config(Map.of("grace-seconds", "30")));
        ClientRepresentation client = new ClientRepresentation();
        client.setAttributes(Map.of("refresh.guard.idle.seconds", "60", "pkce.code.challenge.method", "S256"));
        executor.executeOnEvent(new org.keycloak.services.clientpolicy.context.AdminClientUpdateContext(client, null, null));
        assertThat(client.getAttributes()).containsEntry("refresh.guard.grace.seconds", "30")
                .containsEntry("refresh.guard.idle.seconds", "60").containsEntry("pkce.code.challenge.method", "S256");
    }
}
