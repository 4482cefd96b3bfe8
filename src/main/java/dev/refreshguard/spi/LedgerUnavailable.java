package dev.refreshguard.spi;

import jakarta.ws.rs.core.Response;

import org.jboss.logging.Logger;
import org.keycloak.OAuthErrorException;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.services.CorsErrorResponseException;
import org.keycloak.services.cors.Cors;

import dev.refreshguard.metrics.GuardMetrics;
import dev.refreshguard.store.LockWait;

/**
 * The answer to a request whose family row stayed locked by another transaction past the {@code lock-timeout} bound:
 * 503 {@code temporarily_unavailable} (RFC 6749 §5.2 names no such token error, but it is the OAuth word for "try
 * again later", and a client keeps its token: nothing was rotated). The request's transaction is marked rollback-only
 * so that nothing of it is kept (on PostgreSQL it is aborted anyway), and one WARN line without a stack trace tells
 * the operator which family waited: an expected fault, not a bug of ours.
 */
final class LedgerUnavailable {

    static final String LOG_CATEGORY = "dev.refreshguard.ledger";
    private static final Logger LOG = Logger.getLogger(LOG_CATEGORY);

    private LedgerUnavailable() {
    }

    static RuntimeException answer(KeycloakSession session, GuardMetrics metrics, int boundSeconds, RuntimeException failure,
                                   Cors cors, String request, String familyId) {
        if (!LockWait.expired(failure)) {
            return failure;
        }
        session.getTransactionManager().setRollbackOnly();
        RealmModel realm = session.getContext().getRealm();
        String realmName = realm == null ? "-" : realm.getName();
        metrics.lockTimeout(realmName);
        LOG.warnf("%s in realm %s answered 503 temporarily_unavailable: refresh token family %s stayed locked by another"
                        + " transaction (a node that died or lost its connection mid-request?) for more than lock-timeout=%ds;"
                        + " rolled back, nothing rotated (%s)",
                request, realmName, familyId == null ? "-" : familyId, boundSeconds, rootMessage(failure));
        return new CorsErrorResponseException(cors, OAuthErrorException.TEMPORARILY_UNAVAILABLE,
                "The refresh token's family is busy; retry with the same refresh token", Response.Status.SERVICE_UNAVAILABLE);
    }

    /** The database's own words, on one line, e.g. "canceling statement due to user request". */
    private static String rootMessage(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = String.valueOf(root.getMessage());
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
