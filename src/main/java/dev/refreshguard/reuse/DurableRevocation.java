package dev.refreshguard.reuse;

import java.util.concurrent.Executor;

import org.jboss.logging.Logger;
import org.keycloak.events.Event;
import org.keycloak.events.EventStoreProvider;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.ModelDuplicateException;
import org.keycloak.models.KeycloakTransaction;
import org.keycloak.models.RealmModel;
import org.keycloak.models.utils.KeycloakModelUtils;

import dev.refreshguard.policy.ReuseAction;
import dev.refreshguard.spi.RefreshGuard;
import dev.refreshguard.store.Family;
import dev.refreshguard.store.FamilyLedger;

/**
 * Makes a reuse revocation and its alert event outlast the token request. They are written in the request's
 * transaction (at once visible to every node when it commits, with no second transaction on the hot path); if that
 * transaction rolls back instead — a failed commit, or an error response rolled back — this redoes both in a
 * transaction of its own, and counts the reuse into the family's incident (the request's count was lost with its
 * transaction, or never written after a lost lock race). It runs after the request's transaction has ended, so it
 * never waits for a row lock the request holds (a failed rotate UPDATE keeps its lock on MariaDB, the classifying
 * read on every database).
 * The redo revokes through {@link ReuseResponse#revoke}, the very code the request ran. A node that dies between the
 * rollback and the redo loses the redo: the alert's log line was written already.
 */
final class DurableRevocation implements KeycloakTransaction {

    private static final Logger LOG = Logger.getLogger(DurableRevocation.class);

    private final KeycloakSessionFactory factory;
    private final String realmId;
    private final Family family;
    private final ReuseAction action;
    private final long now;
    private final String presenterIp;
    private final Event alertEvent;
    private final Executor executor;

    DurableRevocation(KeycloakSessionFactory factory, String realmId, Family family, ReuseAction action, long now,
                      String presenterIp, Event alertEvent, Executor executor) {
        this.factory = factory;
        this.realmId = realmId;
        this.family = family;
        this.action = action;
        this.now = now;
        this.presenterIp = presenterIp;
        this.alertEvent = alertEvent;
        this.executor = executor;
    }

    /** On a thread of its own: the request thread's JTA context is still winding down the failed transaction. */
    @Override
    public void rollback() {
        executor.execute(this::redo);
    }

    private void redo() {
        try {
            KeycloakModelUtils.runJobInTransaction(factory, session -> {
                RealmModel realm = session.realms().getRealm(realmId);
                if (realm != null) {
                    session.getContext().setRealm(realm);
                    ReuseResponse.revoke(session, realm, family, action, now, true);
                }
            });
            LOG.debugf("Reuse revocation of family %s redone after its token request rolled back", family.id());
        } catch (RuntimeException e) {
            LOG.errorf(e, "Reuse revocation of family %s (realm %s) could not be redone after its token request rolled back",
                    family.id(), realmId);
        }
        countIncident();
        storeAlertEvent();
    }

    /** In a transaction of its own: the revocation above must not depend on it. */
    private void countIncident() {
        try {
            KeycloakModelUtils.runJobInTransaction(factory, session -> {
                FamilyLedger ledger = RefreshGuard.of(session).store().ledger();
                ReuseResponse.countIncident(ledger, family.id(), ledger.lockedIncident(family.id()), now, presenterIp);
            });
        } catch (RuntimeException e) {
            LOG.warnf("Reuse of family %s could not be counted into its incident after its token request rolled back: %s",
                    family.id(), e.toString());
        }
    }

    /** Keycloak may have stored the event outside the failed transaction already: a duplicate means it is kept. */
    private void storeAlertEvent() {
        if (alertEvent == null) {
            return;
        }
        try {
            KeycloakModelUtils.runJobInTransaction(factory, session -> {
                RealmModel realm = session.realms().getRealm(realmId);
                EventStoreProvider store = session.getProvider(EventStoreProvider.class);
                if (realm != null && realm.isEventsEnabled() && store != null) {
                    store.onEvent(alertEvent);
                }
            });
        } catch (ModelDuplicateException e) {
            LOG.debugf("Reuse alert event of family %s was stored already", family.id());
        } catch (RuntimeException e) {
            LOG.errorf(e, "Reuse alert event of family %s could not be stored after its token request rolled back", family.id());
        }
    }

    @Override
    public void begin() {
    }

    @Override
    public void commit() {
        // Written in the request's transaction, which committed: nothing to redo.
    }

    @Override
    public void setRollbackOnly() {
    }

    @Override
    public boolean getRollbackOnly() {
        return false;
    }

    @Override
    public boolean isActive() {
        return true;
    }
}
