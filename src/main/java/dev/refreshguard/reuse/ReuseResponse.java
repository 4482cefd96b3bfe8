package dev.refreshguard.reuse;

import jakarta.persistence.LockTimeoutException;
import jakarta.persistence.PessimisticLockException;

import org.jboss.logging.Logger;
import org.keycloak.common.util.Time;
import org.keycloak.events.Details;
import org.keycloak.events.EventBuilder;
import org.keycloak.executors.ExecutorsProvider;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;

import dev.refreshguard.alert.ReuseAlert;
import dev.refreshguard.policy.Policy;
import dev.refreshguard.policy.ReuseAction;
import dev.refreshguard.spi.RefreshGuard;
import dev.refreshguard.store.Family;
import dev.refreshguard.store.RevocationReason;
import dev.refreshguard.store.RotationOutcome.Reused;

/**
 * What refresh-guard does about a detected reuse, in one place: revoke what the client's action covers, raise the
 * alert on every channel, and make both outlast the token request should its transaction roll back
 * ({@link DurableRevocation} redoes them with the same {@link #revoke}).
 */
public final class ReuseResponse {

    private static final String REDO_EXECUTOR = "refresh-guard-revocation";
    private static final Logger LOG = Logger.getLogger(ReuseResponse.class);

    private final KeycloakSession session;
    private final RealmModel realm;
    private final Policy policy;
    private final Presenter presenter;

    public ReuseResponse(KeycloakSession session, RealmModel realm, Policy policy, Presenter presenter) {
        this.session = session;
        this.realm = realm;
        this.policy = policy;
        this.presenter = presenter;
    }

    /**
     * Revokes what {@code action} covers, in {@code session}'s transaction: the request's, or ({@code detached}) the
     * redo's own, outside any HTTP request.
     */
    static Revocation.Result revoke(KeycloakSession session, RealmModel realm, Family family, ReuseAction action, long now,
                                    boolean detached) {
        return Revocation.of(action).apply(new RevocationScope(session, realm, family, RevocationReason.REUSE, now, detached));
    }

    /**
     * The reuse is refused: revoke by the action, raise the alert on the request's own event (which the refusal then
     * reports), and redo both after a rollback. {@code now} is the request's time, so a redo revokes "as of" it.
     */
    public void revokeAndAlert(Reused reuse, ReuseAction action, EventBuilder event, long now) {
        Revocation.Result revoked;
        try {
            revoked = revoke(session, realm, reuse.family(), action, now, false);
        } catch (PessimisticLockException | LockTimeoutException e) {
            // Two reuses of one user's families under a session-wide action lock each other's rows (each holds its own
            // family since the rotate step): the database aborts one. That one is still reuse — 400, alert — and its
            // transaction rolls back, so the durable redo below revokes again once the other has committed.
            LOG.debugf(e, "Reuse revocation of family %s lost a lock race; redone after the request", reuse.family().id());
            session.getTransactionManager().setRollbackOnly();
            revoked = new Revocation.Result(0, 0);
        }
        EventBuilder alertEvent = event.removeDetail(Details.UPDATED_REFRESH_TOKEN_ID).detail(Details.REASON, "refresh token reuse");
        raise(reuse, action, revoked, alertEvent);
        session.getTransactionManager().enlistAfterCompletion(new DurableRevocation(session.getKeycloakSessionFactory(),
                realm.getId(), reuse.family(), action, now, alertEvent.getEvent().clone(),
                session.getProvider(ExecutorsProvider.class).getExecutor(REDO_EXECUTOR)));
    }

    /**
     * A rotated-away token presented at the RFC 7009 revocation endpoint: the endpoint revokes its family (the
     * revocation ran already, {@code revoked} says what it did), and the reuse is raised like any other.
     */
    public void alertAtRevocation(Reused reuse, EventBuilder event, Revocation.Result revoked) {
        raise(reuse, ReuseAction.REVOKE_FAMILY, revoked, event);
    }

    /** alert-only: nothing is revoked and the request is served, so the alert gets an event of its own. */
    public void alertOnly(Reused reuse, EventBuilder event) {
        raise(reuse, ReuseAction.ALERT_ONLY, new Revocation.Result(0, 0),
                event.clone().removeDetail(Details.UPDATED_REFRESH_TOKEN_ID));
    }

    private void raise(Reused reuse, ReuseAction action, Revocation.Result revoked, EventBuilder event) {
        Family family = reuse.family();
        ReuseAlert alert = new ReuseAlert(Time.currentTimeMillis(), realm.getName(), presenter.clientId(), family.userId(),
                family.sessionId(), presenter.ip(), presenter.userAgent(), family.id(), reuse.presentedGeneration(),
                family.generation(), reuse.secondsSinceRotation(), reuse.firstUseIp(), action.word(), revoked.sessions());
        RefreshGuard.of(session).alerts().reuse(session, event, alert, policy);
    }
}
