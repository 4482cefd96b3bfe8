package dev.refreshguard.reuse;

/** Nothing is revoked: the reuse is served as if rotation were off, and only the alert is raised. */
public final class AlertOnly implements Revocation {

    @Override
    public Result apply(RevocationSteps steps) {
        return new Result(0, 0);
    }
}
