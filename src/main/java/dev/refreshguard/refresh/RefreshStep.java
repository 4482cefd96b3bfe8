package dev.refreshguard.refresh;

import java.util.Optional;

import org.keycloak.common.util.Time;
import org.keycloak.events.Details;
import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.protocol.oidc.grants.OAuth2GrantType;
import org.keycloak.representations.AccessTokenResponse;
import org.keycloak.representations.RefreshToken;

import dev.refreshguard.alert.AlertChannels;
import dev.refreshguard.alert.ReuseAlert;
import dev.refreshguard.family.Family;
import dev.refreshguard.family.FamilyClaims;
import dev.refreshguard.family.FamilyLedger;
import dev.refreshguard.family.RevocationReason;
import dev.refreshguard.family.RotationOutcome;
import dev.refreshguard.policy.Policy;
import dev.refreshguard.policy.ReuseAction;
import dev.refreshguard.reuse.Revocation;
import dev.refreshguard.reuse.RevocationScope;

/**
 * The family's part of one refresh, run when Keycloak has built the response: one atomic ledger step, then act
 * on its outcome. Everything here runs in the request's transaction.
 */
final class RefreshStep {

    private final KeycloakSession session;
    private final OAuth2GrantType.Context grant;
    private final FamilyClaims presented;
    private final String presentedToken;
    private final Policy policy;
    private final AlertChannels alerts;
    private final RefreshErrors errors;

    RefreshStep(KeycloakSession session, OAuth2GrantType.Context grant, FamilyClaims presented, String presentedToken,
                Policy policy, AlertChannels alerts, RefreshErrors errors) {
        this.session = session;
        this.grant = grant;
        this.presented = presented;
        this.presentedToken = presentedToken;
        this.policy = policy;
        this.alerts = alerts;
        this.errors = errors;
    }

    void complete(AccessTokenResponse response, RefreshToken successor) {
        if (response.getRefreshToken() == null || successor == null) {
            return; // the client does not use refresh tokens: nothing to rotate to
        }
        FamilyLedger ledger = FamilyLedger.of(session);
        if (!policy.rotation()) {
            Optional<Family> family = ledger.find(presented.familyId());
            if (family.isEmpty()) {
                throw errors.unknownFamily(presented.familyId());
            }
            if (family.get().revoked()) {
                throw errors.familyRevoked(family.get());
            }
            return;
        }

        long now = Time.currentTime();
        long successorExp = successor.getExp() == null ? 0 : successor.getExp();
        RotationOutcome outcome = ledger.rotate(presented, presentedToken, response.getRefreshToken(), successorExp, now,
                grant.getClientConnection().getRemoteAddr(), policy.graceSeconds());

        if (outcome instanceof RotationOutcome.Rotated) {
            return;
        }
        if (outcome instanceof RotationOutcome.GraceReplay replay) {
            response.setRefreshToken(replay.successor());
            response.setRefreshExpiresIn(replay.successorExp() > 0 ? Math.max(0, replay.successorExp() - now) : 0);
            errors.event().detail("grace_replay", "true").removeDetail(Details.UPDATED_REFRESH_TOKEN_ID);
            alerts.graceReplay(realm().getName(), client().getClientId());
            return;
        }
        if (outcome instanceof RotationOutcome.Reused reused) {
            onReuse(ledger, reused, now);
            return;
        }
        if (outcome instanceof RotationOutcome.Revoked revoked) {
            throw errors.familyRevoked(revoked.family());
        }
        throw errors.unknownFamily(presented.familyId());
    }

    private void onReuse(FamilyLedger ledger, RotationOutcome.Reused reused, long now) {
        ReuseAction action = policy.reuseAction();
        Revocation.Revoked revoked = Revocation.of(action)
                .apply(new RevocationScope(session, realm(), ledger, reused.family(), RevocationReason.REUSE, now, alerts));

        Family family = reused.family();
        ReuseAlert alert = new ReuseAlert(Time.currentTimeMillis(), realm().getName(), client().getClientId(),
                family.userId(), family.sessionId(), grant.getClientConnection().getRemoteAddr(),
                grant.getHeaders().getHeaderString("User-Agent"), family.id(), reused.presentedGeneration(),
                family.generation(), reused.secondsSinceRotation(), reused.firstUseIp(), action.word(),
                revoked.sessions());
        if (action == ReuseAction.ALERT_ONLY) {
            // Served as if rotation were off; the alert travels on an event of its own.
            alerts.reuse(session, errors.event().clone().removeDetail(Details.UPDATED_REFRESH_TOKEN_ID), alert, policy);
            return;
        }
        alerts.reuse(session, errors.event().removeDetail(Details.UPDATED_REFRESH_TOKEN_ID)
                .detail(Details.REASON, "refresh token reuse"), alert, policy);
        throw errors.reused();
    }

    private RealmModel realm() {
        return grant.getRealm();
    }

    private ClientModel client() {
        return grant.getClient();
    }
}
