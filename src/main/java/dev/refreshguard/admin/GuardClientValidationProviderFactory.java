package dev.refreshguard.admin;

import java.util.Map;

import org.keycloak.models.KeycloakSession;
import org.keycloak.provider.ServerInfoAwareProviderFactory;
import org.keycloak.validation.ClientValidationProvider;
import org.keycloak.validation.ClientValidationProviderFactory;

import dev.refreshguard.GuardVersion;

/**
 * Refuses client creates and updates through the admin REST API (and client registration) whose
 * {@code refresh.guard.*} attributes are invalid. Keycloak asks only its default client validator, so this one takes
 * that place (order above 0) and runs Keycloak's own validator first.
 */
public final class GuardClientValidationProviderFactory implements ClientValidationProviderFactory, ServerInfoAwareProviderFactory {

    /** Keycloak picks the factory with the highest order above 0 as the default of an SPI; its own has 0. */
    private static final int ORDER = 1;

    @Override
    public ClientValidationProvider create(KeycloakSession session) {
        return new GuardClientValidationProvider(session);
    }

    @Override
    public String getId() {
        return GuardVersion.PROVIDER_ID;
    }

    @Override
    public int order() {
        return ORDER;
    }

    @Override
    public Map<String, String> getOperationalInfo() {
        return GuardVersion.info();
    }
}
