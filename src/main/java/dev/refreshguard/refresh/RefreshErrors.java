package dev.refreshguard.refresh;

import jakarta.ws.rs.core.Response;

import org.keycloak.OAuthErrorException;
import org.keycloak.events.Details;
import org.keycloak.events.EventBuilder;
import org.keycloak.protocol.oidc.grants.OAuth2GrantType;
import org.keycloak.services.CorsErrorResponseException;

import dev.refreshguard.alert.AlertVocabulary;
import dev.refreshguard.family.FamilyClaims;
import dev.refreshguard.store.Family;
import dev.refreshguard.store.RevocationReason;
import dev.refreshguard.store.RotationOutcome;

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

    /** A reuse judged likely-retry where the client chose {@code refuse}: refused, nothing revoked. */
    CorsErrorResponseException reusedNotRevoked() {
        return refuse("Refresh token reuse detected: this token was already used; use its successor");
    }

    /** The refusal a ledger outcome that is neither served nor reuse calls for. */
    CorsErrorResponseException refusal(RotationOutcome outcome) {
        if (outcome instanceof RotationOutcome.Revoked revoked) {
            return familyRevoked(revoked.family());
        }
        if (outcome instanceof RotationOutcome.Unknown unknown) {
            return refuse(userId, unknown.familyId(), "Refresh token family is not known to this server",
                    AlertVocabulary.ERROR_FAMILY_REVOKED);
        }
        if (outcome instanceof RotationOutcome.Stale) {
            return refuse(userId, null, "Stale refresh token: it was replaced by a newer one before refresh-guard protected the realm",
                    AlertVocabulary.ERROR_STALE);
        }
        throw new IllegalStateException("not a refusal: " + outcome);
    }

    CorsErrorResponseException familyRevoked(Family family) {
        String description = RevocationReason.REUSE.of(family)
                ? "Refresh token family revoked after token reuse was detected"
                : "Refresh token family revoked";
        return refuse(family.userId(), family.id(), description, AlertVocabulary.ERROR_FAMILY_REVOKED);
    }

    CorsErrorResponseException expired(FamilyClaims claims) {
        return refuse(userId, claims.familyId(), "Refresh token expired: past the idle or maximum lifetime of its family",
                AlertVocabulary.ERROR_EXPIRED);
    }

    /** The event names the user and (where known) the family, and carries refresh-guard's error code. */
    private CorsErrorResponseException refuse(String user, String familyId, String description, String error) {
        EventBuilder event = user == null ? event() : event().user(user);
        if (familyId != null) {
            event.detail(AlertVocabulary.FAMILY_ID, familyId);
        }
        event.detail(Details.REASON, description).error(error);
        return refuse(description);
    }

    EventBuilder event() {
        return grant.getEvent();
    }

    private CorsErrorResponseException refuse(String description) {
        return new CorsErrorResponseException(grant.getCors(), OAuthErrorException.INVALID_GRANT, description,
                Response.Status.BAD_REQUEST);
    }
}
