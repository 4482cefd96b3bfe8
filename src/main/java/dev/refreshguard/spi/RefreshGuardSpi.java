package dev.refreshguard.spi;

import org.keycloak.provider.Provider;
import org.keycloak.provider.ProviderFactory;
import org.keycloak.provider.Spi;

import dev.refreshguard.Jar;

/**
 * The extension's own SPI, {@code refresh-guard}: how refresh-guard's providers reach their collaborators, and where
 * its server options live ({@code --spi-refresh-guard--refresh-guard--<option>}). Not internal: Keycloak would
 * warn at every start that a provider implements an internal SPI, and nothing else is meant to implement it.
 */
public final class RefreshGuardSpi implements Spi {

    @Override
    public boolean isInternal() {
        return false;
    }

    @Override
    public String getName() {
        return Jar.PROVIDER_ID;
    }

    @Override
    public Class<? extends Provider> getProviderClass() {
        return RefreshGuard.class;
    }

    @Override
    public Class<? extends ProviderFactory> getProviderFactoryClass() {
        return RefreshGuardFactory.class;
    }
}
