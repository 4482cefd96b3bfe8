package dev.refreshguard.reuse;

import java.util.List;

import dev.refreshguard.store.Family;

/** The family and its token-exchange descendants stop working; the user's other clients and SSO session are untouched. */
public final class RevokeFamily implements Revocation {

    @Override
    public Result apply(RevocationSteps steps) {
        List<Family> revoked = steps.revokeTree();
        return new Result(steps.endClientSessions(revoked), revoked.size());
    }
}
