package dev.refreshguard.spi;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.keycloak.Config;
import org.keycloak.common.util.Time;
import org.keycloak.executors.ExecutorsProvider;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.provider.ProviderConfigProperty;

import dev.refreshguard.GuardProviderFactory;
import dev.refreshguard.Jar;
import dev.refreshguard.alert.AlertChannels;
import dev.refreshguard.alert.AlertMail;
import dev.refreshguard.metrics.GuardMetrics;
import dev.refreshguard.policy.PolicyReader;
import dev.refreshguard.policy.Protection;
import dev.refreshguard.store.SqlDialect;

/**
 * Holds what refresh-guard shares server-wide — the server options, the policy reader, the alert channels, the
 * counters, the database's SQL dialect — and hands each Keycloak session a {@link RefreshGuard} over them.
 */
public final class DefaultRefreshGuardFactory implements RefreshGuardFactory, GuardProviderFactory<RefreshGuard> {

    private static final String PROTECTION_EXECUTOR = "refresh-guard-protection";

    private PurgeSettings purge;
    private LedgerSettings ledger;
    private PolicyReader policies;
    private GuardMetrics metrics;
    private AlertChannels alerts;
    private KeycloakSessionFactory sessionFactory;
    private volatile SqlDialect dialect;
    private final Set<String> remembering = ConcurrentHashMap.newKeySet();

    @Override
    public RefreshGuard create(KeycloakSession session) {
        return new DefaultRefreshGuard(session, this);
    }

    @Override
    public void init(Config.Scope config) {
        purge = PurgeSettings.from(config);
        ledger = LedgerSettings.from(config);
        policies = new PolicyReader();
        metrics = new GuardMetrics();
        alerts = new AlertChannels(new AlertMail(metrics), metrics);
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
        sessionFactory = factory;
        metrics.realmsProtected(() -> Protection.countProtected(factory));
    }

    @Override
    public List<ProviderConfigProperty> getConfigMetadata() {
        List<ProviderConfigProperty> metadata = new ArrayList<>(PurgeSettings.metadata());
        metadata.addAll(LedgerSettings.metadata());
        return metadata;
    }

    @Override
    public Map<String, String> getOperationalInfo() {
        Map<String, String> info = new LinkedHashMap<>(Jar.info());
        info.putAll(purge.info());
        info.putAll(ledger.info());
        return info;
    }

    PurgeSettings purge() {
        return purge;
    }

    LedgerSettings ledger() {
        return ledger;
    }

    PolicyReader policies() {
        return policies;
    }

    GuardMetrics metrics() {
        return metrics;
    }

    AlertChannels alerts() {
        return alerts;
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
    void rememberProtected(KeycloakSession session, String realmId) {
        if (!remembering.add(realmId)) {
            return;
        }
        long now = Time.currentTime();
        session.getProvider(ExecutorsProvider.class).getExecutor(PROTECTION_EXECUTOR).execute(() -> {
            try {
                Protection.remember(sessionFactory, realmId, now);
            } finally {
                remembering.remove(realmId);
            }
        });
    }
}
