package dev.refreshguard.spi;

import java.util.Optional;
import java.util.function.Function;

import org.keycloak.connections.jpa.JpaConnectionProvider;
import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.services.cors.Cors;

import dev.refreshguard.alert.AlertChannels;
import dev.refreshguard.metrics.GuardMetrics;
import dev.refreshguard.policy.Policy;
import dev.refreshguard.policy.Protection;
import dev.refreshguard.store.Store;
import dev.refreshguard.store.StoreFailure;

/** One Keycloak session's view of refresh-guard. */
final class DefaultRefreshGuard implements RefreshGuard {

    private final KeycloakSession session;
    private final DefaultRefreshGuardFactory factory;
    private Store store;
    /** The last realm asked about and its protection: one request, one realm; derived once. */
    private String realmId;
    private Protection protection;

    DefaultRefreshGuard(KeycloakSession session, DefaultRefreshGuardFactory factory) {
        this.session = session;
        this.factory = factory;
    }

    @Override
    public Protection protection(RealmModel realm) {
        if (realm == null) {
            return Protection.STOCK;
        }
        if (protection == null || !realm.getId().equals(realmId)) {
            protection = Protection.of(realm);
            realmId = realm.getId();
        }
        return protection;
    }

    @Override
    public void rememberProtected(RealmModel realm) {
        if (Protection.unremembered(realm)) {
            factory.rememberProtected(session, realm.getId());
        }
    }

    @Override
    public Policy policy(ClientModel client) {
        return factory.policies().of(client);
    }

    @Override
    public void rotationKept(ClientModel client) {
        factory.policies().reportRotationKept(client);
    }

    @Override
    public Store store() {
        if (store == null) {
            store = new Store(session.getProvider(JpaConnectionProvider.class).getEntityManager(), factory::dialect,
                    factory.ledger().lockTimeoutSeconds());
        }
        return store;
    }

    @Override
    public AlertChannels alerts() {
        return factory.alerts();
    }

    @Override
    public GuardMetrics metrics() {
        return factory.metrics();
    }

    @Override
    public PurgeSettings purgeSettings() {
        return factory.purge();
    }

    @Override
    public LedgerSettings ledgerSettings() {
        return factory.ledger();
    }

    @Override
    public RuntimeException unavailable(RuntimeException failure, Cors cors, String request, String familyId) {
        return LedgerUnavailable.answer(session, factory.metrics(), factory.ledger().lockTimeoutSeconds(), failure, cors,
                request, familyId);
    }

    @Override
    public Optional<StoreFailure> ledgerUnavailable(RuntimeException failure, String request, String familyId,
                                                    Function<StoreFailure, String> answerOf) {
        return LedgerUnavailable.report(session, factory.metrics(), factory.ledger().lockTimeoutSeconds(), failure, request,
                familyId, answerOf);
    }
}
