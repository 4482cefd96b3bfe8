package dev.refreshguard.policy;

import org.jboss.logging.Logger;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.models.utils.KeycloakModelUtils;

import dev.refreshguard.Jar;

/**
 * How refresh-guard treats a realm's tokens right now. A realm is protected while the {@code refresh-guard} event
 * listener is on. A realm that was ever protected is remembered (realm attribute {@value #SINCE}, written once),
 * so that while it is switched off the ledger keeps its bookkeeping — otherwise a token rotated away during the
 * "off" period would be accepted again once protection is back. A realm never protected is left to Keycloak's
 * own provider: no refresh-guard code and no SQL on its refreshes.
 */
public enum Protection {

    /** Protected: rotation, detection, refusals, lifetimes. */
    ON,
    /** Switched off after having been protected: stock behaviour for clients, but the ledger keeps up. */
    BOOKKEEPING,
    /** Never protected: Keycloak's own provider handles everything. */
    STOCK;

    /** Realm attribute: epoch second when this server first saw the realm protected. State, not policy. */
    public static final String SINCE = "refresh.guard.protected.since";

    private static final Logger LOG = Logger.getLogger(Protection.class);

    /** Reads the cached realm model only: no SQL. */
    public static Protection of(RealmModel realm) {
        if (realm == null) {
            return STOCK;
        }
        if (realm.getEventsListenersStream().anyMatch(Jar.PROVIDER_ID::equals)) {
            return ON;
        }
        return realm.getAttribute(SINCE) != null ? BOOKKEEPING : STOCK;
    }

    /** How many realms are protected now, from the cached realm models; NaN when they cannot be read (startup). */
    public static double countProtected(KeycloakSessionFactory factory) {
        try {
            return KeycloakModelUtils.runJobInTransactionWithResult(factory, s -> s.realms().getRealmsStream()
                    .filter(r -> of(r) == ON).count());
        } catch (RuntimeException e) {
            LOG.debugf(e, "refresh-guard: cannot count the protected realms");
            return Double.NaN;
        }
    }

    /** Whether a protected realm still has to be remembered as such. */
    public static boolean unremembered(RealmModel realm) {
        return realm.getAttribute(SINCE) == null;
    }

    /**
     * Remembers that a realm is protected, in a transaction of its own: another node may race to write it, and a
     * losing writer must fail nothing.
     */
    public static void remember(KeycloakSessionFactory factory, String realmId, long now) {
        try {
            KeycloakModelUtils.runJobInTransaction(factory, own -> {
                RealmModel stored = own.realms().getRealm(realmId);
                if (stored != null && stored.getAttribute(SINCE) == null) {
                    stored.setAttribute(SINCE, Long.toString(now));
                }
            });
        } catch (RuntimeException e) {
            LOG.debugf(e, "Realm %s: another node remembered the protection first", realmId);
        }
    }
}
