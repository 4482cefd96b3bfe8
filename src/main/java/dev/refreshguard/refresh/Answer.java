package dev.refreshguard.refresh;

import dev.refreshguard.family.Family;
import dev.refreshguard.family.FamilyClaims;
import dev.refreshguard.family.RotationOutcome;
import dev.refreshguard.policy.Protection;
import dev.refreshguard.policy.ReuseAction;

/** What the client gets for one refresh: decided once, from the ledger's outcome, the realm's mode and the policy. */
sealed interface Answer {

    /** The successor as built: it is the family's newest token now. */
    record Issue() implements Answer {
    }

    /** A grace replay: the very successor handed out before, with a fresh access token. */
    record Replay(String successor, long successorExp) implements Answer {
    }

    /**
     * Served as if rotation were off: the successor keeps the presented token's family claims, so the ledger never
     * takes it for the newest and each later use of it is judged again.
     *
     * @param alert the reuse to raise an alert for (alert-only); null when the realm is off and nothing is raised
     */
    record ServeUnrotated(RotationOutcome.Reused alert) implements Answer {
    }

    /** Reuse: revoke by the client's action, raise the alert, refuse. */
    record RefuseReuse(RotationOutcome.Reused reuse, ReuseAction action) implements Answer {
    }

    record RefuseRevoked(Family family) implements Answer {
    }

    record RefuseUnknown(String familyId) implements Answer {
    }

    /** A token from before protection that was rotated away before it: refused, nothing revoked. */
    record RefuseStale() implements Answer {
    }

    record RefuseExpired(FamilyClaims claims) implements Answer {
    }

    /** The one decision table of a refresh. Pure: unit-tested with every outcome. */
    static Answer of(RotationOutcome outcome, Protection mode, ReuseAction action) {
        if (outcome instanceof RotationOutcome.Rotated) {
            return new Issue();
        }
        if (outcome instanceof RotationOutcome.GraceReplay replay) {
            return new Replay(replay.successor(), replay.successorExp());
        }
        if (mode != Protection.ON) {
            // Switched off: stock behaviour for the client, but nothing served now may become a family's newest token.
            return new ServeUnrotated(null);
        }
        if (outcome instanceof RotationOutcome.Reused reused) {
            return action == ReuseAction.ALERT_ONLY ? new ServeUnrotated(reused) : new RefuseReuse(reused, action);
        }
        if (outcome instanceof RotationOutcome.Revoked revoked) {
            return new RefuseRevoked(revoked.family());
        }
        if (outcome instanceof RotationOutcome.Unknown unknown) {
            return new RefuseUnknown(unknown.familyId());
        }
        return new RefuseStale();
    }
}
