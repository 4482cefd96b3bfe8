package dev.refreshguard.refresh;

import org.keycloak.models.KeycloakSession;
import org.keycloak.protocol.oidc.refresh.RefreshTokenProvider;
import org.keycloak.protocol.oidc.refresh.RefreshTokenProviderFactory;

import dev.refreshguard.GuardProviderFactory;
import dev.refreshguard.spi.RefreshGuard;

/** Issues and refreshes refresh tokens in protected realms; every other realm keeps Keycloak's default provider. */
public final class GuardRefreshTokenProviderFactory implements RefreshTokenProviderFactory, GuardProviderFactory<RefreshTokenProvider> {

    /** Above Keycloak's default provider (0), below the OID4VCI one (10), which keeps its own tokens. */
    private static final int ORDER = 5;

    @Override
    public RefreshTokenProvider create(KeycloakSession session) {
        return new GuardRefreshTokenProvider(session, RefreshGuard.of(session));
    }

    @Override
    public int order() {
        return ORDER;
    }
}
