package dev.refreshguard.console;

import java.util.List;

import org.keycloak.Config;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.services.clientpolicy.executor.ClientPolicyExecutorProvider;
import org.keycloak.services.clientpolicy.executor.ClientPolicyExecutorProviderFactory;

import dev.refreshguard.GuardProviderFactory;

/**
 * The client-policy executor {@code refresh-guard}: Realm settings → Client policies → Profiles → Add executor shows
 * one field per per-client {@code refresh.guard.*} attribute. A client policy whose conditions match a client writes
 * those values into it whenever it is created or saved. Client policies are a supported Keycloak feature, on by
 * default; nothing experimental is needed.
 */
public final class GuardExecutorFactory implements ClientPolicyExecutorProviderFactory, GuardProviderFactory<ClientPolicyExecutorProvider> {

    private static final List<ProviderConfigProperty> PROPERTIES = PolicyField.properties(PolicyField.clientFields(), GuardExecutorConfiguration.FORM);

    @Override
    public ClientPolicyExecutorProvider create(KeycloakSession session) {
        return new GuardExecutor(session);
    }

    @Override
    public String getHelpText() {
        return "refresh-guard: sets the client's refresh-token rotation policy (refresh.guard.* attributes) when a client"
                + " this policy applies to is created or saved. Blank or 'keep' fields leave the client's own value.";
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return PROPERTIES;
    }

    // Keycloak's SPI interface and ours both offer a no-op lifecycle; Java asks us to pick one.
    @Override
    public void init(Config.Scope config) {
        GuardProviderFactory.super.init(config);
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
        GuardProviderFactory.super.postInit(factory);
    }

    @Override
    public void close() {
        GuardProviderFactory.super.close();
    }
}
