package dev.refreshguard.exchange;

import org.keycloak.models.KeycloakSession;
import org.keycloak.protocol.oidc.TokenExchangeProvider;
import org.keycloak.protocol.oidc.TokenExchangeProviderFactory;

import dev.refreshguard.GuardProviderFactory;
import dev.refreshguard.spi.RefreshGuard;

/**
 * Standard token exchange (v2) in protected realms, with the minted refresh token joining the subject token's
 * family as a child; every other realm keeps Keycloak's own providers.
 */
public final class GuardTokenExchangeProviderFactory implements TokenExchangeProviderFactory, GuardProviderFactory<TokenExchangeProvider> {

    /** Asked before Keycloak's standard provider (10) and v1 (0); it declines every request standard would decline. */
    private static final int ORDER = 20;

    @Override
    public TokenExchangeProvider create(KeycloakSession session) {
        return new GuardTokenExchangeProvider(session, RefreshGuard.of(session));
    }

    @Override
    public int order() {
        return ORDER;
    }
}
