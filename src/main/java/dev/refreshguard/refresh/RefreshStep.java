package dev.refreshguard.refresh;

import java.util.Optional;
import java.util.function.Supplier;

import org.keycloak.OAuth2Constants;
import org.keycloak.common.util.Time;
import org.keycloak.events.Details;
import org.keycloak.executors.ExecutorsProvider;
import org.keycloak.models.AuthenticatedClientSessionModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.protocol.oidc.grants.OAuth2GrantType;
import org.keycloak.representations.AccessTokenResponse;
import org.keycloak.representations.RefreshToken;
import org.keycloak.util.TokenUtil;

import dev.refreshguard.alert.AlertChannels;
import dev.refreshguard.alert.AlertVocabulary;
import dev.refreshguard.alert.ReuseAlert;
import dev.refreshguard.family.Family;
import dev.refreshguard.family.FamilyClaims;
import dev.refreshguard.family.FamilyLedger;
import dev.refreshguard.family.NewFamily;
import dev.refreshguard.family.RevocationReason;
import dev.refreshguard.family.RotationOutcome;
import dev.refreshguard.family.SqlDialect;
import dev.refreshguard.policy.Lifetimes;
import dev.refreshguard.policy.Policy;
import dev.refreshguard.policy.Protection;
import dev.refreshguard.policy.ReuseAction;
import dev.refreshguard.reuse.Revocation;
import dev.refreshguard.reuse.RevocationScope;

/**
 * One refresh in a protected (or once-protected) realm, from the presented token to the response, in the order
 * Keycloak runs it:
 * <ol>
 *   <li>{@link #start}: the presented token is a family token, or one issued before protection (to be adopted);
 *       a family token past its lifetime is refused.</li>
 *   <li>{@link #validated}: Keycloak's checks passed and the client session is known: the adoption facts of a
 *       token from before protection.</li>
 *   <li>{@link #successorClaims}: the family claims of the token about to be issued (the one place they are known).</li>
 *   <li>{@link #beforeEncoding}: the ledger's one atomic step, then {@link #act} on its {@link Answer}.</li>
 *   <li>{@link #afterEncoding}: a grace replay swaps in the stored successor; a rotation keeps the sealed successor.</li>
 * </ol>
 * Everything runs in the request's transaction.
 */
final class RefreshStep {

    private static final String REDO_EXECUTOR = "refresh-guard-revocation";

    private final KeycloakSession session;
    private final OAuth2GrantType.Context grant;
    private final Policy policy;
    private final Protection mode;
    private final AlertChannels alerts;
    /** Asked only by an adoption, the one step whose SQL differs between databases. */
    private final Supplier<SqlDialect> dialect;
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
    private Answer answer;

    private RefreshStep(KeycloakSession session, OAuth2GrantType.Context grant, Policy policy, Protection mode,
                        AlertChannels alerts, Supplier<SqlDialect> dialect, RefreshToken presentedToken) {
        this.session = session;
        this.grant = grant;
        this.policy = policy;
        this.mode = mode;
        this.alerts = alerts;
        this.dialect = dialect;
        this.presentedToken = presentedToken;
        this.presentedJwt = grant.getFormParams().getFirst(OAuth2Constants.REFRESH_TOKEN);
        this.offline = TokenUtil.TOKEN_TYPE_OFFLINE.equals(presentedToken.getType());
        this.errors = new RefreshErrors(grant, presentedToken.getSubject());
        this.presented = FamilyClaims.of(presentedToken).orElse(null);
    }

    static RefreshStep start(KeycloakSession session, OAuth2GrantType.Context grant, Policy policy, Protection mode,
                             AlertChannels alerts, Supplier<SqlDialect> dialect, RefreshToken presentedToken) {
        RefreshStep step = new RefreshStep(session, grant, policy, mode, alerts, dialect, presentedToken);
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
        return mode == Protection.ON;
    }

    /**
     * Keycloak's "Revoke Refresh Token" check is replaced in protected realms whose policy rotates: the ledger
     * refuses every token rotated away (stricter than Keycloak's reuse count), with alert, action and grace.
     */
    boolean replacesKeycloakReuseCheck() {
        return mode == Protection.ON && policy.rotation();
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

    /** The ledger step, before the successor is encoded so that its claims can follow the outcome. */
    void beforeEncoding(RefreshToken successorToken) {
        if (successorToken == null || presented == null) {
            return; // the client does not use refresh tokens: nothing to rotate to
        }
        successorExp = successorToken.getExp() == null ? 0 : successorToken.getExp();
        answer = Answer.of(ledgerStep(), mode, policy.reuseAction());
        act(answer, successorToken);
    }

    void afterEncoding(AccessTokenResponse response) {
        if (answer instanceof Answer.Replay replay) {
            response.setRefreshToken(replay.successor());
            response.setRefreshExpiresIn(replay.successorExp() > 0 ? Math.max(0, replay.successorExp() - now) : 0);
            errors.event().detail(AlertVocabulary.GRACE_REPLAY, AlertVocabulary.TRUE).removeDetail(Details.UPDATED_REFRESH_TOKEN_ID);
            alerts.graceReplay(grant.getRealm().getName(), grant.getClient().getClientId());
        } else if (answer instanceof Answer.Issue && graceSeconds() > 0 && policy.rotation() && response.getRefreshToken() != null) {
            FamilyLedger.of(session).keepSuccessor(successor, response.getRefreshToken(), presentedJwt, successorExp);
        }
    }

    /**
     * Keycloak refused first (a revoked family's client session is gone): say why, if the family was revoked.
     * Returns normally when Keycloak's own answer stands.
     */
    void keycloakRefused() {
        if (mode != Protection.ON) {
            return;
        }
        String familyId = presented != null ? presented.familyId()
                : FamilyClaims.adopted(grant.getRealm().getId(), tokenId(), 0).familyId();
        Optional<Family> family = FamilyLedger.of(session).find(familyId);
        if (family.isPresent() && family.get().revoked()) {
            act(new Answer.RefuseRevoked(family.get()), null);
        }
    }

    private RotationOutcome ledgerStep() {
        FamilyLedger ledger = FamilyLedger.of(session);
        if (adoption != null) {
            return ledger.adopt(adoption, stale, dialect.get(), presented, presentedJwt, now, remoteAddr(), graceSeconds(), policy.rotation());
        }
        return policy.rotation() ? ledger.rotate(presented, presentedJwt, now, remoteAddr(), graceSeconds()) : ledger.keep(presented);
    }

    private void refuseIfExpired(FamilyClaims claims) {
        long lastRefresh = presentedToken.getIat() == null ? 0 : presentedToken.getIat();
        if (mode == Protection.ON
                && Lifetimes.expired(now, claims.startedAt(), lastRefresh, policy.idleSeconds(offline), policy.maxSeconds(offline))) {
            act(new Answer.RefuseExpired(claims), null);
        }
    }

    /** Each answer is made here and nowhere else. Refusals throw. */
    private void act(Answer answer, RefreshToken successorToken) {
        if (answer instanceof Answer.Issue || answer instanceof Answer.Replay) {
            return;
        }
        if (answer instanceof Answer.ServeUnrotated unrotated) {
            presented.writeTo(successorToken);
            successor = presented;
            if (unrotated.alert() != null) {
                raiseAlert(unrotated.alert(), ReuseAction.ALERT_ONLY, new Revocation.Revoked(0, 0), false);
            }
            return;
        }
        if (answer instanceof Answer.RefuseReuse reuse) {
            Revocation.Revoked revoked = Revocation.of(reuse.action()).apply(new RevocationScope(session, grant.getRealm(),
                    FamilyLedger.of(session), reuse.reuse().family(), RevocationReason.REUSE, now, alerts));
            raiseAlert(reuse.reuse(), reuse.action(), revoked, true);
            session.getTransactionManager().enlistAfterCompletion(new DurableRevocation(session.getKeycloakSessionFactory(),
                    grant.getRealm().getId(), reuse.reuse().family(), reuse.action(), RevocationReason.REUSE, now, alerts,
                    errors.event().getEvent().clone(), session.getProvider(ExecutorsProvider.class).getExecutor(REDO_EXECUTOR)));
            throw errors.reused();
        }
        if (answer instanceof Answer.RefuseRevoked revoked) {
            throw errors.familyRevoked(revoked.family());
        }
        if (answer instanceof Answer.RefuseUnknown unknown) {
            throw errors.unknownFamily(unknown.familyId());
        }
        if (answer instanceof Answer.RefuseExpired expired) {
            throw errors.expired(expired.claims());
        }
        throw errors.stale();
    }

    /** @param refused whether the request is refused (its event carries the alert) or served (the alert gets an event of its own) */
    private void raiseAlert(RotationOutcome.Reused reused, ReuseAction action, Revocation.Revoked revoked, boolean refused) {
        Family family = reused.family();
        ReuseAlert alert = new ReuseAlert(Time.currentTimeMillis(), grant.getRealm().getName(), grant.getClient().getClientId(),
                family.userId(), family.sessionId(), remoteAddr(), grant.getHeaders().getHeaderString("User-Agent"),
                family.id(), reused.presentedGeneration(), family.generation(), reused.secondsSinceRotation(),
                reused.firstUseIp(), action.word(), revoked.sessions());
        if (refused) {
            alerts.reuse(session, errors.event().removeDetail(Details.UPDATED_REFRESH_TOKEN_ID)
                    .detail(Details.REASON, "refresh token reuse"), alert, policy);
        } else {
            alerts.reuse(session, errors.event().clone().removeDetail(Details.UPDATED_REFRESH_TOKEN_ID), alert, policy);
        }
    }

    /** What names a token from before protection: its jti (Keycloak always sets one; session and iat otherwise). */
    private String tokenId() {
        return presentedToken.getId() != null ? presentedToken.getId()
                : presentedToken.getSessionId() + '@' + presentedToken.getIat();
    }

    private int graceSeconds() {
        return mode == Protection.ON ? policy.graceSeconds() : 0;
    }

    private String remoteAddr() {
        return grant.getClientConnection().getRemoteAddr();
    }
}
