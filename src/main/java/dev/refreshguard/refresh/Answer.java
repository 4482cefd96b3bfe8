package dev.refreshguard.refresh;

import dev.refreshguard.policy.Protection;
import dev.refreshguard.policy.ReuseAction;
import dev.refreshguard.store.RotationOutcome;

/**
 * What a refresh does with the ledger's {@link RotationOutcome}: decided once, from the outcome, the realm's
 * protection and the client's reuse action. The outcome carries the facts; the answer only says what to do with them.
 */
enum Answer {

    /**
     * The response as built: its successor is the family's newest token now, or (no successor built, outcome
     * {@code Current}) the presented token still is.
     */
    ISSUE,
    /** A grace replay: the very successor handed out before, with a fresh access token. */
    REPLAY,
    /**
     * Served as if rotation were off: the successor keeps the presented token's family claims, so the ledger never
     * takes it for the newest and each later use of it is judged again. The realm is switched off: nothing is raised.
     */
    SERVE_UNROTATED,
    /** alert-only: served as {@link #SERVE_UNROTATED}, and the reuse alert raised. */
    ALERT_AND_SERVE_UNROTATED,
    /** Reuse: revoke by the client's action, raise the alert, refuse. */
    REVOKE_AND_REFUSE,
    /** Refused as the outcome says (a revoked or unknown family, a stale token); nothing revoked. */
    REFUSE;

    /** The one decision table of a refresh. Pure: unit-tested with every outcome. */
    static Answer of(RotationOutcome outcome, Protection protection, ReuseAction action) {
        if (outcome instanceof RotationOutcome.Rotated || outcome instanceof RotationOutcome.Kept
                || outcome instanceof RotationOutcome.Current) {
            return ISSUE;
        }
        if (outcome instanceof RotationOutcome.GraceReplay) {
            return REPLAY;
        }
        if (protection != Protection.ON) {
            // Switched off: stock behaviour for the client, but nothing served now may become a family's newest token.
            return SERVE_UNROTATED;
        }
        if (outcome instanceof RotationOutcome.Reused) {
            return action == ReuseAction.ALERT_ONLY ? ALERT_AND_SERVE_UNROTATED : REVOKE_AND_REFUSE;
        }
        return REFUSE;
    }
}
