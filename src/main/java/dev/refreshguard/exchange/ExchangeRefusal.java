package dev.refreshguard.exchange;

import jakarta.ws.rs.core.Response;

import org.keycloak.OAuthErrorException;
import org.keycloak.events.Details;
import org.keycloak.events.EventBuilder;
import org.keycloak.protocol.oidc.TokenExchangeContext;
import org.keycloak.services.CorsErrorResponseException;

import dev.refreshguard.alert.AlertVocabulary;

/**
 * The refusal refresh-guard adds to token exchange: 400 {@code invalid_request} for the client (RFC 8693 §2.2.2,
 * and what Keycloak answers for any unacceptable subject_token), and a TOKEN_EXCHANGE_ERROR event with
 * refresh-guard's own error code for the security team.
 */
final class ExchangeRefusal {

    private final TokenExchangeContext context;

    ExchangeRefusal(TokenExchangeContext context) {
        this.context = context;
    }

    CorsErrorResponseException familyNotAlive(SubjectFamily subject, SubjectFamily.Standing standing) {
        String description = switch (standing) {
            case REVOKED -> "Invalid subject_token: its refresh token family is revoked";
            case EXPIRED -> "Invalid subject_token: its refresh token family has expired";
            default -> "Invalid subject_token: its refresh token family is not known to this server";
        };
        EventBuilder event = context.getEvent();
        event.detail(Details.REQUESTED_TOKEN_TYPE, context.getParams().getRequestedTokenType())
                .user(subject.userId())
                .session(subject.sessionId())
                .detail(Details.SUBJECT_TOKEN_CLIENT_ID, subject.subjectClientId())
                .detail(AlertVocabulary.FAMILY_ID, subject.familyId())
                .detail(Details.REASON, description)
                .error(AlertVocabulary.ERROR_FAMILY_REVOKED);
        return new CorsErrorResponseException(context.getCors(), OAuthErrorException.INVALID_REQUEST, description,
                Response.Status.BAD_REQUEST);
    }
}
