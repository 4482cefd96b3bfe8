package dev.refreshguard.spi;

import java.util.Optional;
import java.util.function.Function;

import jakarta.ws.rs.core.Response;

import org.jboss.logging.Logger;
import org.keycloak.OAuthErrorException;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.services.CorsErrorResponseException;
import org.keycloak.services.cors.Cors;

import dev.refreshguard.metrics.GuardMetrics;
import dev.refreshguard.store.StoreFailure;

/**
 * The answer to a request whose ledger step could not be done — its family row stayed locked by another transaction
 * past the {@code lock-timeout} bound, or the database could not be reached: 503 {@code temporarily_unavailable}
 * (the OAuth word for "try again later"; the client keeps its token, nothing was rotated). The request's transaction
 * is marked rollback-only so that nothing of it is kept and nothing is served, and one WARN line without a stack
 * trace tells the operator what happened: an expected fault, not a bug of ours.
 */
final class LedgerUnavailable {

    static final String LOG_CATEGORY = "dev.refreshguard.ledger";
    private static final String TOKEN_ANSWER = "503 temporarily_unavailable";
    private static final Logger LOG = Logger.getLogger(LOG_CATEGORY);

    private LedgerUnavailable() {
    }

    static RuntimeException answer(KeycloakSession session, GuardMetrics metrics, int boundSeconds, RuntimeException failure,
                                   Cors cors, String request, String familyId) {
        if (report(session, metrics, boundSeconds, failure, request, familyId, kind -> TOKEN_ANSWER).isEmpty()) {
            return failure;
        }
        return new CorsErrorResponseException(cors, OAuthErrorException.TEMPORARILY_UNAVAILABLE,
                "The refresh token ledger cannot be written now; retry with the same token", Response.Status.SERVICE_UNAVAILABLE);
    }

    /** When the failure is a fault of the environment ({@link StoreFailure}): rolls the request back, counts and logs it, says which. */
    static Optional<StoreFailure> report(KeycloakSession session, GuardMetrics metrics, int boundSeconds, RuntimeException failure,
                                         String request, String familyId, Function<StoreFailure, String> answerOf) {
        StoreFailure kind = StoreFailure.of(failure).orElse(null);
        if (kind == null) {
            return Optional.empty();
        }
        session.getTransactionManager().setRollbackOnly();
        RealmModel realm = session.getContext().getRealm();
        String realmName = realm == null ? "-" : realm.getName();
        metrics.unavailable(realmName, kind.word());
        String family = familyId == null ? "-" : familyId;
        String answer = answerOf.apply(kind);
        if (kind == StoreFailure.LOCK_TIMEOUT) {
            LOG.warnf("%s in realm %s answered %s: refresh token family %s stayed locked by another"
                            + " transaction (a node that died or lost its connection mid-request?) for more than lock-timeout=%ds;"
                            + " rolled back, nothing rotated (%s)", request, realmName, answer, family, boundSeconds, rootMessage(failure));
        } else {
            LOG.warnf("%s in realm %s answered %s: the database could not be reached while writing"
                    + " refresh token family %s; rolled back, nothing served (%s)", request, realmName, answer, family, rootMessage(failure));
        }
        return Optional.of(kind);
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
