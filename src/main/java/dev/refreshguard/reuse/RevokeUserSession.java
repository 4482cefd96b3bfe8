package dev.refreshguard.reuse;

/** The user session of that login ends for all its clients, with backchannel logout; offline sessions are untouched. */
public final class RevokeUserSession implements Revocation {

    @Override
    public Revoked apply(RevocationSteps steps) {
        Revoked family = new RevokeFamily().apply(steps);
        int families = steps.revokeOnlineSession().size();
        if (!steps.endUserSession()) {
            return family.plus(new Revoked(0, families));
        }
        // The user session's end covers the family's client sessions: one session ended.
        return new Revoked(1, family.families() + families);
    }
}
