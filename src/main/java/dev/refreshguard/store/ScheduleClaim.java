package dev.refreshguard.store;

import jakarta.persistence.EntityManager;

/**
 * RG_SCHEDULE: the last run of each cluster-wide task. A node runs a pass only after claiming it there, so that of
 * the nodes whose timers fire in one interval exactly one runs it.
 */
public final class ScheduleClaim {

    private final EntityManager em;

    ScheduleClaim(EntityManager em) {
        this.em = em;
    }

    /**
     * Claims this interval's run of {@code task}: an atomic conditional update, so that exactly one node wins it (the
     * others find it claimed). A quarter interval of slack absorbs timer drift.
     */
    public boolean claim(String task, long nowMillis, long intervalMillis) {
        return em.createNativeQuery("UPDATE RG_SCHEDULE SET LAST_RUN = :now WHERE TASK = :task AND LAST_RUN <= :due")
                .setParameter("now", nowMillis)
                .setParameter("task", task)
                .setParameter("due", nowMillis - intervalMillis * 3 / 4)
                .executeUpdate() == 1;
    }

    /**
     * Renews a claim while its run goes on, so that no node claims the next interval before a long run is over; if the
     * node dies, the renewals stop and another node claims the task once a claim's slack has passed.
     */
    public void renew(String task, long nowMillis) {
        em.createNativeQuery("UPDATE RG_SCHEDULE SET LAST_RUN = :now WHERE TASK = :task AND LAST_RUN < :now")
                .setParameter("now", nowMillis)
                .setParameter("task", task)
                .executeUpdate();
    }
}
