package dev.refreshguard.admin;

import org.keycloak.Config;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.validation.ClientValidationProvider;
import org.keycloak.validation.ClientValidationProviderFactory;

import dev.refreshguard.GuardProviderFactory;

/**
 * Refuses client creates and updates through the admin REST API (and client registration) whose
 * {@code refresh.guard.*} attributes are invalid. Keycloak asks only its default client validator, so this one takes
 * that place (order above 0) and runs Keycloak's own validator first.
 */
public final class GuardClientValidationProviderFactory implements ClientValidationProviderFactory, GuardProviderFactory<ClientValidationProvider> {

    /** Keycloak picks the factory with the highest order above 0 as the default of an SPI; its own has 0. */
    private static final int ORDER = 1;

    @Override
    public ClientValidationProvider create(KeycloakSession session) {
        return new GuardClientValidationProvider(session);
    }

    @Override
    public int order() {
        return ORDER;
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
