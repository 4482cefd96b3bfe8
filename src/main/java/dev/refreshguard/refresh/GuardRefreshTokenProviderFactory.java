package dev.refreshguard.refresh;

import org.keycloak.Config;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.protocol.oidc.refresh.RefreshTokenProvider;
import org.keycloak.protocol.oidc.refresh.RefreshTokenProviderFactory;

import dev.refreshguard.GuardProviderFactory;
import dev.refreshguard.RefreshGuard;
import dev.refreshguard.alert.AlertChannels;
import dev.refreshguard.alert.AlertMail;
import dev.refreshguard.family.SqlDialect;
import dev.refreshguard.policy.PolicyReader;

/**
 * Issues and refreshes refresh tokens in protected realms; every other realm keeps Keycloak's default provider.
 * Owns the server-wide pieces (policy reader, alert channels) that the other providers of this JAR share.
 */
public final class GuardRefreshTokenProviderFactory implements RefreshTokenProviderFactory, GuardProviderFactory<RefreshTokenProvider> {

    /** Above Keycloak's default provider (0), below the OID4VCI one (10), which keeps its own tokens. */
    private static final int ORDER = 5;

    private PolicyReader policies;
    private AlertChannels alerts;
    private volatile SqlDialect dialect;

    @Override
    public RefreshTokenProvider create(KeycloakSession session) {
        return new GuardRefreshTokenProvider(session, policies, alerts, this);
    }

    @Override
    public void init(Config.Scope config) {
        policies = new PolicyReader();
        alerts = new AlertChannels(new AlertMail());
    }

    @Override
    public int order() {
        return ORDER;
    }

    /** Which database stores the families: asked once, on the first adoption, and kept for the server's life. */
    SqlDialect dialect(KeycloakSessionFactory sessionFactory) {
        SqlDialect known = dialect;
        if (known == null) {
            known = SqlDialect.detect(sessionFactory);
            dialect = known;
        }
        return known;
    }

    public PolicyReader policies() {
        return policies;
    }

    public AlertChannels alerts() {
        return alerts;
    }

    /** The one instance of this server, for the other providers of this JAR. */
    public static GuardRefreshTokenProviderFactory of(KeycloakSession session) {
        return (GuardRefreshTokenProviderFactory) session.getKeycloakSessionFactory()
                .getProviderFactory(RefreshTokenProvider.class, RefreshGuard.PROVIDER_ID);
    }
}
