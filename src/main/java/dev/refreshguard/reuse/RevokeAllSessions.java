package dev.refreshguard.reuse;

/** Every session of the user, online and offline, ends. */
public final class RevokeAllSessions implements Revocation {

    @Override
    public Revoked apply(RevocationSteps steps) {
        int families = new RevokeFamily().apply(steps).families() + steps.revokeUser().size();
        return new Revoked(steps.endAllSessionsOfUser(), families);
    }
}
