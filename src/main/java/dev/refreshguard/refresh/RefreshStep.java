package dev.refreshguard.refresh;

import java.util.Optional;

import org.keycloak.OAuth2Constants;
import org.keycloak.common.util.Time;
import org.keycloak.events.Details;
import org.keycloak.models.AuthenticatedClientSessionModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.protocol.oidc.OIDCAdvancedConfigWrapper;
import org.keycloak.protocol.oidc.grants.OAuth2GrantType;
import org.keycloak.representations.AccessToken;
import org.keycloak.representations.AccessTokenResponse;
import org.keycloak.representations.RefreshToken;
import org.keycloak.representations.dpop.DPoP;
import org.keycloak.services.util.DPoPUtil;
import org.keycloak.util.TokenUtil;

import dev.refreshguard.alert.AlertVocabulary;
import dev.refreshguard.family.FamilyClaims;
import dev.refreshguard.policy.Lifetimes;
import dev.refreshguard.policy.Policy;
import dev.refreshguard.policy.PolicyReader;
import dev.refreshguard.policy.ReuseAction;
import dev.refreshguard.policy.Protection;
import dev.refreshguard.reuse.Presenter;
import dev.refreshguard.reuse.ReuseResponse;
import dev.refreshguard.spi.RefreshGuard;
import dev.refreshguard.store.Family;
import dev.refreshguard.store.FamilyLedger;
import dev.refreshguard.store.NewFamily;
import dev.refreshguard.store.Presentation;
import dev.refreshguard.store.RotationOutcome;

/**
 * One refresh in a protected (or once-protected) realm, from the presented token to the response, in the order
 * Keycloak runs it:
 * <ol>
 *   <li>{@link #start}: the presented token is a family token, or one issued before protection (to be adopted);
 *       a family token past its lifetime is refused.</li>
 *   <li>{@link #validated}: Keycloak's checks passed and the client session is known: the adoption facts of a
 *       token from before protection.</li>
 *   <li>{@link #successorClaims}: the family claims of the token about to be issued (the one place they are known).</li>
 *   <li>{@link #beforeEncoding}: decide — the ledger's one atomic step gives the outcome, {@link Answer#of} the
 *       answer — then {@link #act} on it.</li>
 *   <li>{@link #afterEncoding}: a grace replay swaps in the stored successor; a rotation keeps the sealed successor.</li>
 * </ol>
 * Everything runs in the request's transaction.
 */
final class RefreshStep {

    private final KeycloakSession session;
    private final RefreshGuard guard;
    private final OAuth2GrantType.Context grant;
    private final Policy policy;
    private final Protection protection;
    private final RefreshToken presentedToken;
    private final String presentedJwt;
    private final boolean offline;
    private final RefreshErrors errors;
    private final long now = Time.currentTime();

    /** The presented token's family: from its claims, or (issued before protection) the family it is adopted into. */
    private FamilyClaims presented;
    /** Set for a token issued before protection, once the client session is known. */
    private NewFamily adoption;
    private boolean stale;
    private FamilyClaims successor;
    private long successorExp;
    private RotationOutcome outcome;
    /** Set for a reuse: its evidence, verdict and the action the policy takes for that verdict. */
    private ReuseResponse.Judgement judged;
    private Answer answer;

    private RefreshStep(KeycloakSession session, RefreshGuard guard, OAuth2GrantType.Context grant, Policy policy,
                        Protection protection, RefreshToken presentedToken) {
        this.session = session;
        this.guard = guard;
        this.grant = grant;
        this.policy = policy;
        this.protection = protection;
        this.presentedToken = presentedToken;
        this.presentedJwt = grant.getFormParams().getFirst(OAuth2Constants.REFRESH_TOKEN);
        this.offline = TokenUtil.TOKEN_TYPE_OFFLINE.equals(presentedToken.getType());
        this.errors = new RefreshErrors(grant, presentedToken.getSubject());
        this.presented = FamilyClaims.of(presentedToken).orElse(null);
    }

    static RefreshStep start(KeycloakSession session, RefreshGuard guard, OAuth2GrantType.Context grant, Policy policy,
                             Protection protection, RefreshToken presentedToken) {
        RefreshStep step = new RefreshStep(session, guard, grant, policy, protection, presentedToken);
        if (step.presented != null) {
            step.refuseIfExpired(step.presented);
        }
        return step;
    }

    Policy policy() {
        return policy;
    }

    /** Only a protected realm shortens lifetimes: switched off, tokens are Keycloak's. */
    boolean limitsLifetimes() {
        return protection == Protection.ON;
    }

    /**
     * Keycloak's "Revoke Refresh Token" check is replaced in protected realms whose policy rotates: the ledger
     * refuses every token rotated away (stricter than Keycloak's reuse count), with alert, action and grace.
     */
    boolean replacesKeycloakReuseCheck() {
        return protection == Protection.ON && policy.rotation();
    }

    /** Keycloak's checks passed. For a token issued before protection: the family it is adopted into. */
    void validated(AuthenticatedClientSessionModel clientSession) {
        if (presented != null) {
            return;
        }
        long issuedAt = presentedToken.getIat() == null ? 0 : presentedToken.getIat();
        // The family counts from the client session's start, the original grant: adoption never extends its max.
        long startedAt = clientSession.getStarted() > 0 ? clientSession.getStarted() : issuedAt;
        RealmModel realm = grant.getRealm();
        presented = FamilyClaims.adopted(realm.getId(), tokenId(), startedAt);
        // Keycloak stamps the client session with each new token's iat: an older token was rotated away (or a
        // newer login of the same client in the same session replaced it).
        stale = issuedAt < clientSession.getTimestamp();
        adoption = new NewFamily(presented.familyId(), realm.getId(), grant.getClient().getId(), presentedToken.getSubject(),
                presentedToken.getSessionId(), offline, null, startedAt, remoteAddr());
        refuseIfExpired(presented);
    }

    /** The family claims of the token about to be issued. */
    FamilyClaims successorClaims() {
        successor = presented.successor(policy.rotation());
        return successor;
    }

    /**
     * Keycloak built the successor and then dropped it — a client-policy executor such as
     * {@code suppress-refresh-token-rotation}; {@code use.refresh.tokens=false} never builds one. For a public client
     * without sender-constrained tokens that would make one refresh token usable for the whole session, which RFC 9700
     * §2.2.2 forbids and {@code rotation=off} is refused for: refresh-guard keeps rotating (shown on the policy endpoint).
     */
    boolean rotatesDespiteKeycloak() {
        return protection == Protection.ON && policy.rotation() && PolicyReader.kindOf(grant.getClient()).needsRotation()
                && !senderConstrained(presentedToken)
                && OIDCAdvancedConfigWrapper.fromClientModel(grant.getClient()).isUseRefreshToken();
    }

    /**
     * A refresh token bound to a key (DPoP: Keycloak binds a public client's refresh token to the proof's key even when
     * the client does not require DPoP-bound access tokens) or to a certificate (mTLS): only its holder can use it, so
     * it is sender-constrained in RFC 9700's sense and Keycloak's dropping of its successor is honoured.
     */
    static boolean senderConstrained(RefreshToken token) {
        AccessToken.Confirmation cnf = token.getConfirmation();
        return cnf != null && (cnf.getKeyThumbprint() != null || cnf.getCertThumbprint() != null);
    }

    void reportRotationKept() {
        guard.rotationKept(grant.getClient());
        guard.alerts().rotationOverridden(session, grant.getClient(), policy);
    }

    RefreshToken presentedToken() {
        return presentedToken;
    }

    /** Decide, then act: before the successor is encoded, so that its claims can follow the outcome. */
    void beforeEncoding(RefreshToken successorToken) {
        if (presented == null) {
            return;
        }
        if (successorToken == null) {
            withoutSuccessor();
            return;
        }
        successorExp = successorToken.getExp() == null ? 0 : successorToken.getExp();
        try {
            outcome = ledgerStep();
            answer = Answer.of(outcome, protection, actionFor(outcome));
            act(successorToken);
        } catch (RuntimeException e) {
            // A family locked by a dead node's transaction (a bounded wait) or the database gone: 503. Refusals pass.
            throw unavailable(e);
        }
    }

    private RuntimeException unavailable(RuntimeException failure) {
        return guard.unavailable(failure, grant.getCors(), "Refresh", presented == null ? null : presented.familyId());
    }

    /**
     * No successor built ({@code use.refresh.tokens=false}, an executor that drops it): nothing rotates, but the presented
     * token is still judged — only its family's newest token of an active family is served; an older one is reuse with
     * the client's action and alert. Switched off, stock behaviour: nothing is judged.
     */
    private void withoutSuccessor() {
        if (protection != Protection.ON) {
            return;
        }
        // Once per client and server start: which of Keycloak's settings stops the rotation (the policy endpoint's words).
        guard.alerts().rotationOverridden(session, grant.getClient(), policy);
        FamilyLedger ledger = guard.store().ledger();
        outcome = adoption != null ? ledger.adoptCurrent(adoption, stale, now)
                : ledger.current(presented.familyId(), presented.generation(), now);
        if (!policy.rotation() && outcome instanceof RotationOutcome.Reused) {
            // Rotation off: every token of a live family may be used (the ledger only counts which was issued last).
            outcome = new RotationOutcome.Current();
        }
        answer = Answer.of(outcome, protection, actionFor(outcome));
        act(null);
    }

    /** The reuse action for this outcome: a reuse is judged first, since its verdict may choose the action. */
    private ReuseAction actionFor(RotationOutcome outcome) {
        if (outcome instanceof RotationOutcome.Reused reused && protection == Protection.ON) {
            judged = reuseResponse().judge(reused);
            return judged.action();
        }
        return policy.reuseAction();
    }

    void afterEncoding(AccessTokenResponse response) {
        if (answer == Answer.REPLAY && outcome instanceof RotationOutcome.GraceReplay replay) {
            response.setRefreshToken(replay.successor());
            response.setRefreshExpiresIn(replay.successorExp() > 0 ? Math.max(0, replay.successorExp() - now) : 0);
            errors.event().detail(AlertVocabulary.GRACE_REPLAY, AlertVocabulary.TRUE).removeDetail(Details.UPDATED_REFRESH_TOKEN_ID);
            guard.metrics().graceReplay(grant.getRealm().getName(), grant.getClient().getClientId());
        } else if (answer == Answer.ISSUE && graceSeconds() > 0 && policy.rotation() && response.getRefreshToken() != null) {
            try {
                guard.store().ledger().keepSuccessor(successor.familyId(), successor.generation(), response.getRefreshToken(),
                        presentedJwt, successorExp);
            } catch (RuntimeException e) {
                throw unavailable(e);
            }
        }
    }

    /**
     * Keycloak refused first (a revoked family's client session is gone): say why, if the family was revoked.
     * Returns normally when Keycloak's own answer stands.
     */
    void keycloakRefused() {
        if (protection != Protection.ON) {
            return;
        }
        String familyId = presented != null ? presented.familyId()
                : FamilyClaims.adopted(grant.getRealm().getId(), tokenId(), 0).familyId();
        Optional<Family> family;
        try {
            family = guard.store().queries().find(familyId);
        } catch (RuntimeException e) {
            throw unavailable(e);
        }
        if (family.isPresent() && family.get().revoked()) {
            throw errors.familyRevoked(family.get());
        }
    }

    private RotationOutcome ledgerStep() {
        FamilyLedger ledger = guard.store().ledger();
        if (adoption != null) {
            return ledger.adopt(adoption, stale, presentedJwt, now, presentation(), graceSeconds(), policy.rotation());
        }
        return policy.rotation()
                ? ledger.rotate(presented.familyId(), presented.generation(), presentedJwt, now, presentation(), graceSeconds())
                : ledger.keep(presented.familyId(), now, presentation());
    }

    private void refuseIfExpired(FamilyClaims claims) {
        long lastRefresh = presentedToken.getIat() == null ? 0 : presentedToken.getIat();
        if (protection == Protection.ON
                && Lifetimes.expired(now, claims.startedAt(), lastRefresh, policy.idleSeconds(offline), policy.maxSeconds(offline))) {
            throw errors.expired(claims);
        }
    }

    /** Each answer is carried out here and nowhere else. Refusals throw. */
    private void act(RefreshToken successorToken) {
        switch (answer) {
            case ISSUE -> {
                if (outcome instanceof RotationOutcome.Kept kept && successorToken != null) {
                    // Rotation off: the successor carries the generation the ledger recorded as the newest issued.
                    successor = new FamilyClaims(presented.familyId(), kept.generation(), presented.startedAt());
                    successor.writeTo(successorToken);
                }
            }
            case REPLAY -> {
            }
            case SERVE_UNROTATED -> serveUnrotated(successorToken);
            case ALERT_AND_SERVE_UNROTATED -> {
                serveUnrotated(successorToken);
                reuseResponse().alertOnly((RotationOutcome.Reused) outcome, judged, errors.event());
            }
            case REVOKE_AND_REFUSE -> {
                reuseResponse().revokeAndAlert((RotationOutcome.Reused) outcome, judged, errors.event(), now);
                throw judged.action() == ReuseAction.REFUSE ? errors.reusedNotRevoked() : errors.reused();
            }
            case REFUSE -> throw errors.refusal(outcome);
        }
    }

    private void serveUnrotated(RefreshToken successorToken) {
        if (successorToken != null) {
            presented.writeTo(successorToken);
        }
        successor = presented;
    }

    private ReuseResponse reuseResponse() {
        return new ReuseResponse(session, grant.getRealm(), policy, new Presenter(grant.getClient().getClientId(), remoteAddr(),
                userAgent(), keyThumbprint(), presentedToken.getSessionId()));
    }

    /** Who presents the token, as the ledger records it with the rotation: a hash of the User-Agent, the DPoP key. */
    private Presentation presentation() {
        return Presentation.of(remoteAddr(), userAgent(), keyThumbprint());
    }

    private String userAgent() {
        return grant.getHeaders().getHeaderString("User-Agent");
    }

    /** The thumbprint of the request's DPoP proof key, which Keycloak verified before the refresh; null without one. */
    private String keyThumbprint() {
        DPoP proof = session.getAttribute(DPoPUtil.DPOP_SESSION_ATTRIBUTE, DPoP.class);
        return proof == null ? null : proof.getThumbprint();
    }

    /** What names a token from before protection: its jti (Keycloak always sets one; session and iat otherwise). */
    private String tokenId() {
        return presentedToken.getId() != null ? presentedToken.getId()
                : presentedToken.getSessionId() + '@' + presentedToken.getIat();
    }

    private int graceSeconds() {
        return protection == Protection.ON ? policy.graceSeconds() : 0;
    }

    private String remoteAddr() {
        return grant.getClientConnection().getRemoteAddr();
    }
}
