package dev.refreshguard.refresh;

import jakarta.ws.rs.core.Response;

import org.keycloak.OAuthErrorException;
import org.keycloak.events.Details;
import org.keycloak.events.EventBuilder;
import org.keycloak.protocol.oidc.grants.OAuth2GrantType;
import org.keycloak.services.CorsErrorResponseException;

import dev.refreshguard.alert.AlertVocabulary;
import dev.refreshguard.family.Family;
import dev.refreshguard.family.FamilyClaims;
import dev.refreshguard.family.RevocationReason;

/**
 * The refusals refresh-guard adds: 400 {@code invalid_grant} for the client, and a REFRESH_TOKEN_ERROR event with
 * refresh-guard's own error code (and the user) for the security team. Thrown as a response exception so that
 * Keycloak's grant does not replace the event's error with its generic one.
 */
final class RefreshErrors {

    private final OAuth2GrantType.Context grant;
    private final String userId;

    /** @param userId the presented token's subject: every refusal names the user, like the reuse alert */
    RefreshErrors(OAuth2GrantType.Context grant, String userId) {
        this.grant = grant;
        this.userId = userId;
    }

    CorsErrorResponseException reused() {
        return refuse("Refresh token reuse detected: this token was already used, so its family is revoked");
    }

    CorsErrorResponseException familyRevoked(Family family) {
        String description = RevocationReason.REUSE.of(family)
                ? "Refresh token family revoked after token reuse was detected"
                : "Refresh token family revoked";
        event().user(family.userId()).detail(AlertVocabulary.FAMILY_ID, family.id()).detail(Details.REASON, description).error(AlertVocabulary.ERROR_FAMILY_REVOKED);
        return refuse(description);
    }

    CorsErrorResponseException unknownFamily(String familyId) {
        String description = "Refresh token family is not known to this server";
        user(event()).detail(AlertVocabulary.FAMILY_ID, familyId).detail(Details.REASON, description).error(AlertVocabulary.ERROR_FAMILY_REVOKED);
        return refuse(description);
    }

    CorsErrorResponseException expired(FamilyClaims claims) {
        String description = "Refresh token expired: past the idle or maximum lifetime of its family";
        user(event()).detail(AlertVocabulary.FAMILY_ID, claims.familyId()).detail(Details.REASON, description).error(AlertVocabulary.ERROR_EXPIRED);
        return refuse(description);
    }

    CorsErrorResponseException stale() {
        String description = "Stale refresh token: it was replaced by a newer one before refresh-guard protected the realm";
        user(event()).detail(Details.REASON, description).error(AlertVocabulary.ERROR_STALE);
        return refuse(description);
    }

    EventBuilder event() {
        return grant.getEvent();
    }

    private EventBuilder user(EventBuilder event) {
        return userId == null ? event : event.user(userId);
    }

    private CorsErrorResponseException refuse(String description) {
        return new CorsErrorResponseException(grant.getCors(), OAuthErrorException.INVALID_GRANT, description,
                Response.Status.BAD_REQUEST);
    }
}
