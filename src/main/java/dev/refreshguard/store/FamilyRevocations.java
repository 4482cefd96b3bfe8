package dev.refreshguard.store;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import jakarta.persistence.EntityManager;
import jakarta.persistence.Query;

import dev.refreshguard.store.Family.State;

/**
 * Families stop being live: revoked (with their token-exchange descendants, however large the tree) or ended with
 * their session. Every read that decides what to revoke is a locking read, so it sees the latest committed rows
 * (children an exchange committed a moment ago included) and nobody changes them before this transaction ends;
 * each statement names at most {@link Sql#CHUNK} ids.
 */
public final class FamilyRevocations {

    private final EntityManager em;
    private final int lockTimeoutSeconds;

    FamilyRevocations(EntityManager em, int lockTimeoutSeconds) {
        this.em = em;
        this.lockTimeoutSeconds = lockTimeoutSeconds;
    }

    /** Every statement here may wait for a family's row lock: each is bounded (see {@link LockWait}). */
    private Query query(String sql) {
        return LockWait.bounded(em.createNativeQuery(sql), lockTimeoutSeconds);
    }

    /**
     * Revokes a family and every family descended from it by token exchange.
     *
     * @return the families this call revoked (those no longer active are left as they were and not returned)
     */
    public List<Family> revokeWithDescendants(String familyId, RevocationReason reason, long now) {
        return revokeTrees(List.of(familyId), reason, now);
    }

    /** Revokes every family of one user session (online tokens only: offline sessions outlive it), with descendants. */
    public List<Family> revokeOnlineSession(String realmId, String sessionId, RevocationReason reason, long now) {
        return revokeTrees(ids(query("SELECT ID FROM RG_FAMILY WHERE REALM_ID = :realm"
                        + " AND SESSION_ID = :session AND OFFLINE = FALSE AND STATE = 'ACTIVE' FOR UPDATE")
                .setParameter("realm", realmId)
                .setParameter("session", sessionId)), reason, now);
    }

    /** Revokes every family of a user, online and offline, with descendants. */
    public List<Family> revokeUser(String realmId, String userId, RevocationReason reason, long now) {
        return revokeTrees(ids(query("SELECT ID FROM RG_FAMILY WHERE REALM_ID = :realm"
                        + " AND USER_ID = :user AND STATE = 'ACTIVE' FOR UPDATE")
                .setParameter("realm", realmId)
                .setParameter("user", userId)), reason, now);
    }

    /**
     * The user session ended (logout): its online families can no longer be used and stop being live. Offline
     * families outlive it. The purge task finds every other way a session ends.
     */
    public int endOnlineSession(String realmId, String sessionId, long now) {
        return query("UPDATE RG_FAMILY SET STATE = 'ENDED', STOPPED_AT = :now, SUCCESSOR = ''"
                        + " WHERE REALM_ID = :realm AND SESSION_ID = :session AND OFFLINE = FALSE AND STATE = 'ACTIVE'")
                .setParameter("now", now)
                .setParameter("realm", realmId)
                .setParameter("session", sessionId)
                .executeUpdate();
    }

    /** Level by level from the roots down; {@code seen} guards against a cycle in stored parent links. */
    private List<Family> revokeTrees(List<String> roots, RevocationReason reason, long now) {
        List<Family> revoked = new ArrayList<>();
        Set<String> seen = new HashSet<>(roots);
        List<String> level = new ArrayList<>(seen);
        while (!level.isEmpty()) {
            List<String> next = new ArrayList<>();
            for (List<String> chunk : Sql.chunks(level)) {
                List<String> live = new ArrayList<>();
                for (Family f : FamilyQueries.families(query("SELECT " + Family.COLUMNS.list()
                        + " FROM RG_FAMILY WHERE ID IN (:ids) FOR UPDATE").setParameter("ids", chunk))) {
                    if (f.state() == State.ACTIVE) {
                        revoked.add(f);
                        live.add(f.id());
                    }
                }
                if (!live.isEmpty()) {
                    markRevoked(live, reason, now);
                }
                for (String child : ids(query("SELECT ID FROM RG_FAMILY WHERE PARENT_ID IN (:ids) FOR UPDATE")
                        .setParameter("ids", chunk))) {
                    if (seen.add(child)) {
                        next.add(child);
                    }
                }
            }
            level = next;
        }
        return revoked;
    }

    private void markRevoked(List<String> ids, RevocationReason reason, long now) {
        query("UPDATE RG_FAMILY SET STATE = 'REVOKED', STOPPED_AT = :now, REVOKED_REASON = :reason,"
                        + " SUCCESSOR = '' WHERE ID IN (:ids) AND STATE = 'ACTIVE'")
                .setParameter("now", now)
                .setParameter("reason", reason.word())
                .setParameter("ids", ids)
                .executeUpdate();
    }

    @SuppressWarnings("unchecked")
    private static List<String> ids(Query query) {
        return new ArrayList<>((List<String>) query.getResultList());
    }
}
