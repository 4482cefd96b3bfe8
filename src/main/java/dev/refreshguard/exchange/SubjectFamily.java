package dev.refreshguard.exchange;

import java.util.Optional;

import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.protocol.oidc.TokenExchangeContext;
import org.keycloak.representations.AccessToken;
import org.keycloak.util.TokenUtil;

import dev.refreshguard.family.Family;
import dev.refreshguard.family.FamilyLedger;
import dev.refreshguard.policy.Lifetimes;
import dev.refreshguard.policy.Policy;
import dev.refreshguard.policy.PolicyReader;

/**
 * The family a subject access token was issued from. Access tokens carry no family claims, so the family is the
 * newest one of the token's client in the token's user session ({@code azp}, {@code sid}).
 *
 * @param subjectClientId the subject token's client (its {@code azp}), for the event
 * @param policy          the subject client's policy: the lifetimes the family lives by
 * @param tokenIssuedAt   when the subject token was issued: the family was in use then
 */
record SubjectFamily(Family family, String subjectClientId, Policy policy, long tokenIssuedAt) {

    enum Standing { ALIVE, REVOKED, EXPIRED }

    /**
     * The subject token's family; empty when the token is not a live access token signed by this realm (Keycloak's
     * standard checks refuse it with their usual error) or when no family issued it (the exchange then starts a
     * family of its own, without parent).
     */
    static Optional<SubjectFamily> of(KeycloakSession session, TokenExchangeContext context, PolicyReader policies) {
        // Signature checked, so a forged token can never name a family; expiry and the rest stay Keycloak's checks.
        AccessToken token = session.tokens().decode(context.getParams().getSubjectToken(), AccessToken.class);
        if (token == null || !TokenUtil.TOKEN_TYPE_BEARER.equals(token.getType()) || !token.isActive()
                || token.getSessionId() == null || token.getIssuedFor() == null || token.getIat() == null) {
            return Optional.empty();
        }
        RealmModel realm = context.getRealm();
        ClientModel client = realm.getClientByClientId(token.getIssuedFor());
        if (client == null) {
            return Optional.empty();
        }
        return FamilyLedger.of(session).newestOf(realm.getId(), token.getSessionId(), client.getId())
                .map(family -> new SubjectFamily(family, client.getClientId(), policies.of(client), token.getIat()));
    }

    /** Whether the family may still have descendants at {@code now}. */
    Standing standing(long now) {
        if (family.revoked()) {
            return Standing.REVOKED;
        }
        // The subject token was issued by the family's latest refresh or later, so the family was in use then.
        long lastUse = Math.max(family.rotatedAt(), tokenIssuedAt);
        boolean offline = family.offline();
        return Lifetimes.expired(now, family.createdAt(), lastUse, policy.idleSeconds(offline), policy.maxSeconds(offline))
                ? Standing.EXPIRED
                : Standing.ALIVE;
    }
}
