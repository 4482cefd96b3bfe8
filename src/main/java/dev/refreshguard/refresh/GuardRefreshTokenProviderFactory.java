package dev.refreshguard.refresh;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.keycloak.Config;
import org.keycloak.common.util.Time;
import org.keycloak.executors.ExecutorsProvider;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.protocol.oidc.refresh.RefreshTokenProvider;
import org.keycloak.protocol.oidc.refresh.RefreshTokenProviderFactory;

import dev.refreshguard.GuardProviderFactory;
import dev.refreshguard.RefreshGuard;
import dev.refreshguard.alert.AlertChannels;
import dev.refreshguard.alert.AlertMail;
import dev.refreshguard.family.SqlDialect;
import dev.refreshguard.policy.PolicyReader;
import dev.refreshguard.policy.Protection;

/**
 * Issues and refreshes refresh tokens in protected realms; every other realm keeps Keycloak's default provider.
 * Owns the server-wide pieces (policy reader, alert channels) that the other providers of this JAR share.
 */
public final class GuardRefreshTokenProviderFactory implements RefreshTokenProviderFactory, GuardProviderFactory<RefreshTokenProvider> {

    /** Above Keycloak's default provider (0), below the OID4VCI one (10), which keeps its own tokens. */
    private static final int ORDER = 5;

    private PolicyReader policies;
    private AlertChannels alerts;
    private static final String PROTECTION_EXECUTOR = "refresh-guard-protection";

    private final Set<String> remembering = ConcurrentHashMap.newKeySet();
    private volatile SqlDialect dialect;
    private KeycloakSessionFactory sessionFactory;

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

    @Override
    public void postInit(KeycloakSessionFactory factory) {
        sessionFactory = factory;
    }

    /**
     * Which database stores the families: asked on the first adoption (the only step whose SQL differs) and kept for
     * the server's life. Only the first callers synchronise, so that concurrent first adoptions do not each borrow a
     * second connection; later calls read one volatile field.
     */
    SqlDialect dialect() {
        SqlDialect known = dialect;
        if (known != null) {
            return known;
        }
        synchronized (this) {
            if (dialect == null) {
                dialect = SqlDialect.detect(sessionFactory);
            }
            return dialect;
        }
    }

    /**
     * Remembers a realm seen protected, off the request thread and once per realm at a time on this node: the request
     * keeps its own database connection, and a burst of first refreshes does not become a burst of realm writes.
     */
    void rememberProtected(KeycloakSession session, RealmModel realm) {
        String realmId = realm.getId();
        if (!remembering.add(realmId)) {
            return;
        }
        KeycloakSessionFactory sessionFactory = session.getKeycloakSessionFactory();
        long now = Time.currentTime();
        session.getProvider(ExecutorsProvider.class).getExecutor(PROTECTION_EXECUTOR).execute(() -> {
            try {
                Protection.remember(sessionFactory, realmId, now);
            } finally {
                remembering.remove(realmId);
            }
        });
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
