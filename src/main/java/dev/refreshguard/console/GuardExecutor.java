package dev.refreshguard.console;

import java.util.HashMap;
import java.util.Map;

import org.keycloak.models.KeycloakSession;
import org.keycloak.representations.idm.ClientRepresentation;
import org.keycloak.services.clientpolicy.ClientPolicyContext;
import org.keycloak.services.clientpolicy.context.ClientCRUDContext;
import org.keycloak.services.clientpolicy.executor.ClientPolicyExecutorProvider;

import dev.refreshguard.Jar;
import dev.refreshguard.policy.Policy;

/**
 * Writes the configured {@code refresh.guard.*} values into a client that is being created or saved (admin console,
 * admin REST API, client registration), before Keycloak validates and stores it. Keycloak's own auto-configuring
 * executors work the same way. The client attributes stay the one source of truth: the refresh path reads them as
 * before and never evaluates client policies of its own, and refresh-guard's client validator judges the written
 * values as it judges any other (HTTP 400 naming the attribute).
 */
final class GuardExecutor implements ClientPolicyExecutorProvider<GuardExecutorConfiguration> {

    private final KeycloakSession session;
    private GuardExecutorConfiguration configuration = new GuardExecutorConfiguration();

    GuardExecutor(KeycloakSession session) {
        this.session = session;
    }

    /** Without a session (unit tests): writes the values only. */
    GuardExecutor() {
        this(null);
    }

    @Override
    public void setupConfiguration(GuardExecutorConfiguration config) {
        if (config != null) {
            this.configuration = config;
        }
    }

    @Override
    public Class<GuardExecutorConfiguration> getExecutorConfigurationClass() {
        return GuardExecutorConfiguration.class;
    }

    @Override
    public void executeOnEvent(ClientPolicyContext context) {
        switch (context.getEvent()) {
            case REGISTER, UPDATE -> write(((ClientCRUDContext) context).getProposedClientRepresentation());
            default -> {
                // Token requests and refreshes: nothing to do, the values are on the client already.
            }
        }
    }

    private void write(ClientRepresentation client) {
        Map<String, String> values = configuration.attributes();
        if (client == null || values.isEmpty()) {
            return;
        }
        Map<String, String> attributes = client.getAttributes() == null ? new HashMap<>() : new HashMap<>(client.getAttributes());
        attributes.putAll(values);
        client.setAttributes(attributes);
        // A realm admin's client policy wrote these: the validator lets them pass the "beyond the client" rule.
        if (session != null) {
            session.setAttribute(Policy.SET_BY_CLIENT_POLICY, Map.copyOf(values));
        }
    }

    @Override
    public String getProviderId() {
        return Jar.PROVIDER_ID;
    }
}
