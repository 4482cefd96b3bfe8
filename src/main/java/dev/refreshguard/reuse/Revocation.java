package dev.refreshguard.reuse;

import dev.refreshguard.policy.ReuseAction;

/** One revocation scope per {@code refresh.guard.reuse.action}; each is one small class. */
public sealed interface Revocation permits RevokeFamily, RevokeUserSession, RevokeAllSessions, AlertOnly {

    /** Revokes what this action covers through {@code steps} (a {@link RevocationScope}), in the request's transaction. */
    Result apply(RevocationSteps steps);

    /** What a revocation ended: sessions (client sessions for a family, user sessions for the wider scopes) and families. */
    record Result(int sessions, int families) {
        Result plus(Result other) {
            return new Result(sessions + other.sessions, families + other.families);
        }
    }

    static Revocation of(ReuseAction action) {
        return switch (action) {
            case REVOKE_FAMILY -> new RevokeFamily();
            case REVOKE_USER_SESSION -> new RevokeUserSession();
            case REVOKE_ALL_SESSIONS -> new RevokeAllSessions();
            case ALERT_ONLY, REFUSE -> new AlertOnly();
        };
    }
}
