package dev.refreshguard.exchange;

import java.util.Optional;

import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.protocol.oidc.TokenExchangeContext;
import org.keycloak.representations.AccessToken;
import org.keycloak.util.TokenUtil;

import dev.refreshguard.family.IssuingFamily;
import dev.refreshguard.policy.Lifetimes;
import dev.refreshguard.policy.Policy;
import dev.refreshguard.spi.RefreshGuard;
import dev.refreshguard.store.Family;
import dev.refreshguard.store.FamilyQueries;

/**
 * The family a subject access token was issued from. An access token issued alongside a family's refresh token
 * names that family ({@code rg_fid}), so the parent is exactly that family. Only an access token without the
 * claim — issued by a version before the claim, or with no refresh token beside it — falls back to the newest
 * family of its client in its user session ({@code azp}, {@code sid}).
 *
 * @param family          the family, or null when the token names a family the ledger does not know
 * @param familyId        the family's id as the token or the ledger names it
 * @param subjectClientId the subject token's client (its {@code azp}), for the event
 * @param policy          the subject client's policy: the lifetimes the family lives by
 * @param tokenIssuedAt   when the subject token was issued: the family was in use then
 */
record SubjectFamily(Family family, String familyId, String userId, String sessionId, String subjectClientId,
                     Policy policy, long tokenIssuedAt) {

    enum Standing { ALIVE, REVOKED, EXPIRED, UNKNOWN }

    SubjectFamily(Family family, String subjectClientId, Policy policy, long tokenIssuedAt) {
        this(family, family.id(), family.userId(), family.sessionId(), subjectClientId, policy, tokenIssuedAt);
    }

    /**
     * The subject token's family; empty when the token is not a live access token signed by this realm (Keycloak's
     * standard checks refuse it with their usual error) or when no family issued it (the exchange then starts a
     * family of its own, without parent).
     *
     * @param lock read the family with a lock held until the transaction ends: a child is about to be started
     *             under it, so a concurrent revocation waits for this exchange and then finds the child
     */
    static Optional<SubjectFamily> of(KeycloakSession session, RefreshGuard guard, TokenExchangeContext context,
                                      boolean lock) {
        // Signature checked, so a forged token can never name a family; expiry and the rest stay Keycloak's checks.
        String subjectToken = context.getParams().getSubjectToken();
        if (subjectToken == null || subjectToken.isBlank()) {
            return Optional.empty(); // legacy exchange without subject_token (direct naked impersonation): Keycloak decides
        }
        AccessToken token = session.tokens().decode(subjectToken, AccessToken.class);
        if (token == null || !isAccessToken(token.getType()) || !token.isActive()
                || token.getSessionId() == null || token.getIssuedFor() == null || token.getIat() == null) {
            return Optional.empty();
        }
        RealmModel realm = context.getRealm();
        ClientModel client = realm.getClientByClientId(token.getIssuedFor());
        if (client == null) {
            return Optional.empty();
        }
        FamilyQueries families = guard.store().queries();
        Optional<String> named = IssuingFamily.of(token);
        Optional<Family> newest = named.isPresent()
                ? Optional.empty()
                : families.newestOf(realm.getId(), token.getSessionId(), client.getId());
        Optional<String> familyId = named.isPresent() ? named : newest.map(Family::id);
        if (familyId.isEmpty()) {
            return Optional.empty();
        }
        Policy policy = guard.policy(client);
        Optional<Family> family = lock ? families.findForUpdate(familyId.get())
                : newest.isPresent() ? newest : families.find(familyId.get());
        // The claim is Keycloak-signed, but a family of another realm or client is never this token's.
        family = family.filter(f -> f.realmId().equals(realm.getId()) && f.clientUuid().equals(client.getId()));
        if (family.isEmpty()) {
            // Named by a signed token but gone from the ledger (deleted or purged): it has no live tokens to descend from.
            return Optional.of(new SubjectFamily(null, familyId.get(), token.getSubject(), token.getSessionId(),
                    client.getClientId(), policy, token.getIat()));
        }
        return Optional.of(new SubjectFamily(family.get(), client.getClientId(), policy, token.getIat()));
    }

    /**
     * Keycloak writes the access token's {@code typ} as {@code Bearer}, {@code bearer} for clients with
     * {@code token.response.type.bearer.lower-case}, or {@code DPoP} when the token is DPoP-bound.
     */
    static boolean isAccessToken(String type) {
        return TokenUtil.TOKEN_TYPE_BEARER.equalsIgnoreCase(type) || TokenUtil.TOKEN_TYPE_DPOP.equalsIgnoreCase(type);
    }

    /** Whether the family may still have descendants at {@code now}. */
    Standing standing(long now) {
        if (family == null) {
            return Standing.UNKNOWN;
        }
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
