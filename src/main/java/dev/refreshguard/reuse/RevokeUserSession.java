package dev.refreshguard.reuse;

/** The user session of that login ends for all its clients, with backchannel logout; offline sessions are untouched. */
public final class RevokeUserSession implements Revocation {

    @Override
    public Result apply(RevocationSteps steps) {
        Result family = new RevokeFamily().apply(steps);
        int families = steps.revokeOnlineSession().size();
        if (!steps.endUserSession()) {
            return family.plus(new Result(0, families));
        }
        // The user session's end covers the family's client sessions: one session ended.
        return new Result(1, family.families() + families);
    }
}
