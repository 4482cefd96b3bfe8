package dev.refreshguard.store;

import java.util.List;
import java.util.Optional;

import jakarta.persistence.EntityManager;
import jakarta.persistence.Query;

import dev.refreshguard.store.Family.State;

/** The reads of families outside the hot path: by id, a user's pages, a client session's families. */
public final class FamilyQueries {

    private static final String SELECT = "SELECT " + Family.COLUMNS.list() + " FROM RG_FAMILY WHERE ";

    private final EntityManager em;
    private final int lockTimeoutSeconds;

    FamilyQueries(EntityManager em, int lockTimeoutSeconds) {
        this.em = em;
        this.lockTimeoutSeconds = lockTimeoutSeconds;
    }

    public Optional<Family> find(String familyId) {
        return family(familyId, "");
    }

    /**
     * The family as {@link #find} reads it, with its row locked until the transaction ends, so that a child can be
     * started under it safely: a concurrent revocation waits for this transaction, then finds the child among the
     * descendants (and this read, a locking one, sees the latest committed state under any isolation level).
     */
    public Optional<Family> findForUpdate(String familyId) {
        return family(familyId, " FOR UPDATE");
    }

    private Optional<Family> family(String familyId, String lock) {
        if (!Sql.plausibleId(familyId)) {
            return Optional.empty();
        }
        Query query = em.createNativeQuery(SELECT + "ID = :id" + lock);
        if (!lock.isEmpty()) {
            LockWait.bounded(query, lockTimeoutSeconds);
        }
        return families(query.setParameter("id", familyId)).stream().findFirst();
    }

    /** One page of a user's families, oldest first; {@code state} null for every state. */
    public List<Family> pageOfUser(String realmId, String userId, State state, int first, int max) {
        Query query = em.createNativeQuery(SELECT + "REALM_ID = :realm AND USER_ID = :user"
                        + (state == null ? "" : " AND STATE = :state") + " ORDER BY CREATED_AT, ID")
                .setParameter("realm", realmId)
                .setParameter("user", userId)
                .setFirstResult(first)
                .setMaxResults(max);
        if (state != null) {
            query.setParameter("state", state.name());
        }
        return families(query);
    }

    /**
     * The newest family of one client in one user session: the parent of an exchanged subject access token that
     * names no family of its own (issued by an older version, or without a refresh token).
     */
    public Optional<Family> newestOf(String realmId, String sessionId, String clientUuid) {
        return families(em.createNativeQuery(SELECT + "REALM_ID = :realm AND SESSION_ID = :session AND CLIENT_ID = :client"
                        + " ORDER BY ROTATED_AT DESC, CREATED_AT DESC")
                .setParameter("realm", realmId)
                .setParameter("session", sessionId)
                .setParameter("client", clientUuid)
                .setMaxResults(1)).stream().findFirst();
    }

    /** The live families of one client in one user session (online or offline). */
    public List<Family> liveOfClientSession(String realmId, String sessionId, String clientUuid) {
        return families(em.createNativeQuery(SELECT + "REALM_ID = :realm AND SESSION_ID = :session AND CLIENT_ID = :client"
                        + " AND STATE = 'ACTIVE'")
                .setParameter("realm", realmId)
                .setParameter("session", sessionId)
                .setParameter("client", clientUuid));
    }

    static List<Family> families(Query query) {
        return Family.COLUMNS.rows(query).stream().map(Family::of).toList();
    }
}
