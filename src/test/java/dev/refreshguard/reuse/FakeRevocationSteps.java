package dev.refreshguard.reuse;

import java.util.ArrayList;
import java.util.List;

import dev.refreshguard.store.Family;

/**
 * A ledger and session store in memory for the revocation actions: a few families of one user, and a record of
 * which families were revoked by which step and which sessions were ended.
 */
final class FakeRevocationSteps implements RevocationSteps {

    /** The families of the reused family's tree, of its user session, and of its user (online and offline). */
    final List<Family> tree;
    final List<Family> onlineSession;
    final List<Family> user;
    /** Whether the user session still exists, and how many sessions the user has in all. */
    boolean userSessionExists = true;
    int sessionsOfUser = 3;

    final List<String> steps = new ArrayList<>();
    final List<Family> revoked = new ArrayList<>();
    final List<Family> clientSessionsEnded = new ArrayList<>();

    FakeRevocationSteps(List<Family> tree, List<Family> onlineSession, List<Family> user) {
        this.tree = tree;
        this.onlineSession = onlineSession;
        this.user = user;
    }

    @Override
    public List<Family> revokeTree() {
        return revoke("tree", tree);
    }

    @Override
    public List<Family> revokeOnlineSession() {
        return revoke("online session", onlineSession);
    }

    @Override
    public List<Family> revokeUser() {
        return revoke("user", user);
    }

    /** Like the ledger: only families not yet revoked change, and only those are returned. */
    private List<Family> revoke(String step, List<Family> scope) {
        steps.add("revoke " + step);
        List<Family> changed = scope.stream().filter(f -> !revoked.contains(f)).toList();
        revoked.addAll(changed);
        return changed;
    }

    @Override
    public int endClientSessions(List<Family> families) {
        steps.add("end client sessions");
        clientSessionsEnded.addAll(families);
        return families.size();
    }

    @Override
    public boolean endUserSession() {
        steps.add("end user session");
        return userSessionExists;
    }

    @Override
    public int endAllSessionsOfUser() {
        steps.add("end all sessions of user");
        return sessionsOfUser;
    }

    static Family family(String id, String sessionId, boolean offline) {
        return new Family(id, "realm", "client-" + id, "user", sessionId, offline, null, 2, 100, 200, "10.0.0.1",
                Family.State.ACTIVE, 0, 0, null);
    }
}
