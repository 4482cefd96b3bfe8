package dev.refreshguard.spi;

import org.keycloak.provider.ProviderFactory;

/** The factory type of the {@code refresh-guard} SPI. */
public interface RefreshGuardFactory extends ProviderFactory<RefreshGuard> {
}
