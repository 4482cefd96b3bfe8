package dev.refreshguard.store;

/** What the ledger's one atomic rotate (or adopt) step found. */
public sealed interface RotationOutcome {

    /** The presented token was the newest: the family moved on to the successor (for an adopted token: from generation 0). */
    record Rotated() implements RotationOutcome {
    }

    /**
     * No successor was built (Keycloak's configuration drops it): the presented token is its family's newest and the
     * family is active, so it may be served; the family stays at its generation.
     */
    record Current() implements RotationOutcome {
    }

    /**
     * Rotation off: the presented token was served and stays usable; its successor was recorded as the family's newest
     * issued token, {@code generation}. When rotation is switched on, that newest token wins the first rotation and
     * every older one is reuse — never whichever old token happens to come first.
     */
    record Kept(int generation) implements RotationOutcome {
    }

    /** The presented token was rotated moments ago and its successor is still unused: hand out that same successor. */
    record GraceReplay(String successor, long successorExp) implements RotationOutcome {
    }

    /**
     * The presented token was already rotated away: two parties hold it.
     *
     * @param secondsSinceRotation seconds since the presented token was rotated; -1 when it is older than the last rotation
     * @param firstUse             who used the presented token first (rotated it away); null when it is older than the
     *                             last rotation
     * @param incident             the family's reuse incident before this reuse (the row is locked by this transaction)
     */
    record Reused(Family family, int presentedGeneration, long secondsSinceRotation, Presentation firstUse,
                  IncidentState incident) implements RotationOutcome {

        /** The address that rotated the presented token away; null when unknown. */
        public String firstUseIp() {
            return firstUse == null ? null : firstUse.ip();
        }
    }

    /** The family was revoked earlier (reuse, logout of its sessions, an admin, the revocation endpoint). */
    record Revoked(Family family) implements RotationOutcome {
    }

    /** No such family is stored: refused like a revoked one. */
    record Unknown(String familyId) implements RotationOutcome {
    }

    /**
     * A token issued before the realm was protected, not adopted, and older than the newest token of its client
     * session: it was rotated away before protection started, so no family can take it in.
     */
    record Stale() implements RotationOutcome {
    }
}
