package dev.refreshguard.spi;

import java.util.Optional;
import java.util.function.Function;

import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.provider.Provider;
import org.keycloak.services.cors.Cors;

import dev.refreshguard.alert.AlertChannels;
import dev.refreshguard.metrics.GuardMetrics;
import dev.refreshguard.policy.Policy;
import dev.refreshguard.policy.Protection;
import dev.refreshguard.store.Store;
import dev.refreshguard.store.StoreFailure;

/**
 * The one place every part of refresh-guard gets its collaborators from, per Keycloak session: the realm's
 * protection, a client's policy, the store on the session's transaction, the alert channels, the counters and the
 * server options. The extension's own SPI ({@code refresh-guard}); its factory holds what is shared server-wide.
 */
public interface RefreshGuard extends Provider {

    static RefreshGuard of(KeycloakSession session) {
        return session.getProvider(RefreshGuard.class);
    }

    /** How refresh-guard treats the realm's tokens now; worked out once per session and realm (no SQL). */
    Protection protection(RealmModel realm);

    /**
     * Remembers that a protected realm was seen protected (realm attribute {@value Protection#SINCE}), once: off the
     * request thread, once per realm at a time on this node. Does nothing for a realm remembered already.
     */
    void rememberProtected(RealmModel realm);

    /** The client's effective policy: client attribute, else realm attribute, else default. */
    Policy policy(ClientModel client);

    /** Keycloak dropped a successor that refresh-guard built anyway ({@code PolicyReader#reportRotationKept}): logged once. */
    void rotationKept(ClientModel client);

    /** refresh-guard's tables, on this session's connection and transaction. */
    Store store();

    AlertChannels alerts();

    GuardMetrics metrics();

    /** The purge task's server options ({@code --spi-refresh-guard--refresh-guard--<option>}). */
    PurgeSettings purgeSettings();

    /** The bound on waiting for a family's row lock ({@code --spi-refresh-guard--refresh-guard--lock-timeout}). */
    LedgerSettings ledgerSettings();

    /**
     * What to throw for a failure of the store during {@code request} (e.g. "Refresh"): when it is a fault of the
     * environment (a statement ran out of the lock-timeout bound, the database unreachable), the request is rolled
     * back, one WARN line logged and the 503 {@code temporarily_unavailable} returned; any other failure is returned
     * as it is.
     */
    RuntimeException unavailable(RuntimeException failure, Cors cors, String request, String familyId);

    /**
     * As {@link #unavailable} for a request that answers in its own format (the admin API): which fault of the
     * environment the failure is, the request then rolled back, counted and logged with the answer {@code answerOf}
     * names (e.g. "409"); empty for any other failure.
     */
    Optional<StoreFailure> ledgerUnavailable(RuntimeException failure, String request, String familyId,
                                             Function<StoreFailure, String> answerOf);

    @Override
    default void close() {
    }
}
