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

import dev.refreshguard.alert.AlertVocabulary;
import dev.refreshguard.alert.Evidence;
import dev.refreshguard.alert.Incident;
import dev.refreshguard.alert.ReuseAlert;
import dev.refreshguard.alert.Verdict;
import dev.refreshguard.policy.Policy;
import dev.refreshguard.policy.ReuseAction;
import dev.refreshguard.spi.RefreshGuard;
import dev.refreshguard.store.Family;
import dev.refreshguard.store.FamilyLedger;
import dev.refreshguard.store.IncidentState;
import dev.refreshguard.store.Presentation;
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

    /** The evidence of a reuse, the verdict from it, and the action the client's policy takes for that verdict. */
    public record Judgement(Evidence evidence, Verdict verdict, ReuseAction action, String signal) {
    }

    /** Judges a reuse detected by the ledger (a rotated-away token presented again). */
    public Judgement judge(Reused reuse) {
        return judge(reuse, false);
    }

    /**
     * Judges a reuse: compares the presenter with whoever used the presented token first. {@code otherKey}: the token
     * was presented with a DPoP key other than the one it is bound to, which is theft whatever else matches.
     */
    public Judgement judge(Reused reuse, boolean otherKey) {
        Presentation first = reuse.firstUse();
        Presentation now = Presentation.of(presenter.ip(), presenter.userAgent(), presenter.keyThumbprint());
        Evidence evidence = new Evidence(
                first == null ? null : Evidence.same(first.ip(), now.ip()),
                first == null ? null : Evidence.same(first.userAgentHash(), now.userAgentHash()),
                otherKey ? Boolean.FALSE : first == null ? null : Evidence.sameKey(first.keyThumbprint(), now.keyThumbprint()),
                reuse.secondsSinceRotation(),
                presenter.sessionId() == null ? null : presenter.sessionId().equals(reuse.family().sessionId()));
        Verdict verdict = Verdict.of(evidence, policy.retrySeconds());
        return new Judgement(evidence, verdict, policy.reuseAction(verdict == Verdict.LIKELY_RETRY),
                otherKey ? AlertVocabulary.SIGNAL_DPOP_KEY : AlertVocabulary.SIGNAL_ROTATED);
    }

    /**
     * The reuse is refused: revoke by the judged action, raise the alert on the request's own event (which the refusal
     * then reports), and redo both after a rollback. {@code now} is the request's time, so a redo revokes "as of" it.
     */
    public void revokeAndAlert(Reused reuse, Judgement judged, EventBuilder event, long now) {
        ReuseAction action = judged.action();
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
        boolean reported = raise(reuse, judged, action, revoked, alertEvent);
        session.getTransactionManager().enlistAfterCompletion(new DurableRevocation(session.getKeycloakSessionFactory(),
                realm.getId(), reuse.family(), action, now, presenter.ip(), reported ? alertEvent.getEvent().clone() : null,
                session.getProvider(ExecutorsProvider.class).getExecutor(REDO_EXECUTOR)));
    }

    /**
     * A rotated-away token presented at the RFC 7009 revocation endpoint: the endpoint revokes its family (the
     * revocation ran already, {@code revoked} says what it did), and the reuse is raised like any other.
     */
    public void alertAtRevocation(Reused reuse, EventBuilder event, Revocation.Result revoked) {
        raise(reuse, judge(reuse), ReuseAction.REVOKE_FAMILY, revoked, event);
    }

    /** alert-only: nothing is revoked and the request is served, so the alert gets an event of its own. */
    public void alertOnly(Reused reuse, Judgement judged, EventBuilder event) {
        raise(reuse, judged, ReuseAction.ALERT_ONLY, new Revocation.Result(0, 0),
                event.clone().removeDetail(Details.UPDATED_REFRESH_TOKEN_ID));
    }

    /** One more reuse of the family at {@code now}, counted from its stored incident and written back beside it. */
    static Incident countIncident(FamilyLedger ledger, String familyId, IncidentState stored, long now, String presenterIp) {
        Incident incident = Incident.next(stored.startedAt(), stored.count(), now);
        ledger.recordIncident(familyId, new IncidentState(incident.startedAt(), incident.count()), presenterIp);
        return incident;
    }

    /** Counts the reuse into the family's incident and raises the alert; true when its event was sent (reported). */
    private boolean raise(Reused reuse, Judgement judged, ReuseAction action, Revocation.Result revoked, EventBuilder event) {
        Family family = reuse.family();
        RefreshGuard guard = RefreshGuard.of(session);
        // After a lost lock race the database has aborted the transaction: nothing more can be written in it; the
        // durable redo revokes, reports and counts this reuse into the incident.
        Incident incident = session.getTransactionManager().getRollbackOnly()
                ? Incident.next(reuse.incident().startedAt(), reuse.incident().count(), Time.currentTime())
                : countIncident(guard.store().ledger(), family.id(), reuse.incident(), Time.currentTime(), presenter.ip());
        ReuseAlert alert = new ReuseAlert(Time.currentTimeMillis(), realm.getName(), presenter.clientId(), family.userId(),
                family.sessionId(), presenter.ip(), presenter.userAgent(), family.id(), reuse.presentedGeneration(),
                family.generation(), reuse.secondsSinceRotation(), reuse.firstUseIp(), action.word(), revoked.sessions(),
                judged.evidence(), judged.verdict(), incident, judged.signal());
        guard.alerts().reuse(session, event, alert, policy);
        return incident.reported();
    }
}
