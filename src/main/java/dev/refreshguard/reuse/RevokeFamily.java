package dev.refreshguard.reuse;

import java.util.List;

import dev.refreshguard.family.Family;

/** The family and its token-exchange descendants stop working; the user's other clients and SSO session are untouched. */
public final class RevokeFamily implements Revocation {

    @Override
    public Revoked apply(RevocationSteps steps) {
        List<Family> revoked = steps.revokeTree();
        return new Revoked(steps.endClientSessions(revoked), revoked.size());
    }
}
