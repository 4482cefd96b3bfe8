package dev.refreshguard.store;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import jakarta.persistence.EntityManager;

import dev.refreshguard.store.Family.State;

/**
 * Families leave the table: the purge's batches (stopped families past their retention deleted, live ones walked in
 * id order, ended or their grace successor cleared) and the deletion of a user's, client's or realm's families.
 */
public final class FamilyCleanup {

    /** Whose families are deleted with it: the column that names the owner. */
    public enum Owner {
        USER("USER_ID"), CLIENT("CLIENT_ID"), REALM("REALM_ID");

        private final String column;

        Owner(String column) {
            this.column = column;
        }
    }

    private static final Columns STOPPED = new Columns("ID", "REALM_ID");

    private final EntityManager em;

    FamilyCleanup(EntityManager em) {
        this.em = em;
    }

    /**
     * Deletes at most {@code max} families in {@code state} (REVOKED or ENDED) that stopped before {@code stoppedBefore}.
     * Ids are selected first and then deleted by id: MariaDB cannot LIMIT inside an IN sub-query.
     *
     * @return the families deleted, by realm id; empty when none was left
     */
    public Map<String, Integer> deleteStopped(State state, long stoppedBefore, int max) {
        List<Columns.Row> rows = STOPPED.rows(em.createNativeQuery("SELECT " + STOPPED.list()
                        + " FROM RG_FAMILY WHERE STATE = :state AND STOPPED_AT <= :before")
                .setParameter("state", state.name())
                .setParameter("before", stoppedBefore)
                .setMaxResults(max));
        Map<String, Integer> byRealm = new HashMap<>();
        if (rows.isEmpty()) {
            return byRealm;
        }
        List<String> ids = rows.stream().map(r -> r.text("ID")).toList();
        rows.forEach(r -> byRealm.merge(r.text("REALM_ID"), 1, Integer::sum));
        em.createNativeQuery("DELETE FROM RG_FAMILY WHERE ID IN (:ids) AND STATE = :state")
                .setParameter("ids", ids)
                .setParameter("state", state.name())
                .executeUpdate();
        return byRealm;
    }

    /** The next at most {@code max} live families with an id after {@code afterId}, in id order. */
    public List<LiveFamily> liveAfter(String afterId, int max) {
        return LiveFamily.COLUMNS.rows(em.createNativeQuery("SELECT " + LiveFamily.COLUMNS.list()
                        + " FROM RG_FAMILY WHERE STATE = 'ACTIVE' AND STOPPED_AT = 0 AND ID > :after ORDER BY ID")
                .setParameter("after", afterId)
                .setMaxResults(max)).stream().map(LiveFamily::of).toList();
    }

    /** Marks live families ENDED (none of their tokens can be used any more); returns how many changed. */
    public int end(List<String> ids, long now) {
        return em.createNativeQuery("UPDATE RG_FAMILY SET STATE = 'ENDED', STOPPED_AT = :now, SUCCESSOR = ''"
                        + " WHERE ID IN (:ids) AND STATE = 'ACTIVE'")
                .setParameter("now", now)
                .setParameter("ids", ids)
                .executeUpdate();
    }

    /**
     * Clears grace successors whose window has passed. A family rotated since it was read has a new successor (and a
     * later ROTATED_AT than {@code latestRotatedAt}): it keeps it.
     */
    public int clearSuccessors(List<String> ids, long latestRotatedAt) {
        return em.createNativeQuery("UPDATE RG_FAMILY SET SUCCESSOR = '' WHERE ID IN (:ids) AND ROTATED_AT <= :latest")
                .setParameter("ids", ids)
                .setParameter("latest", latestRotatedAt)
                .executeUpdate();
    }

    /** Deletes the realm's families of one owner (a user, a client, or the realm itself: then {@code ownerId} is the realm's id). */
    public int deleteOf(Owner owner, String realmId, String ownerId) {
        return em.createNativeQuery("DELETE FROM RG_FAMILY WHERE REALM_ID = :realm AND " + owner.column + " = :owner")
                .setParameter("realm", realmId)
                .setParameter("owner", ownerId)
                .executeUpdate();
    }
}
