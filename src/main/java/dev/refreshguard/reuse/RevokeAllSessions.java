package dev.refreshguard.reuse;

/** Every session of the user, online and offline, ends. */
public final class RevokeAllSessions implements Revocation {

    @Override
    public Result apply(RevocationSteps steps) {
        int families = new RevokeFamily().apply(steps).families() + steps.revokeUser().size();
        return new Result(steps.endAllSessionsOfUser(), families);
    }
}
