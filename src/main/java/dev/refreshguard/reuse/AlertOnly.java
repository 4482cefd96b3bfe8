package dev.refreshguard.reuse;

/** Nothing is revoked: the reuse is served as if rotation were off, and only the alert is raised. */
public final class AlertOnly implements Revocation {

    @Override
    public Revoked apply(RevocationSteps steps) {
        return new Revoked(0, 0);
    }
}
