package dev.refreshguard.family;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import jakarta.persistence.EntityManager;

import org.keycloak.common.Profile;
import org.keycloak.connections.jpa.JpaConnectionProvider;
import org.keycloak.models.AuthenticatedClientSessionModel;
import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserSessionModel;
import org.keycloak.models.utils.KeycloakModelUtils;

import dev.refreshguard.policy.Policy;
import dev.refreshguard.refresh.GuardRefreshTokenProviderFactory;

/**
 * One purge pass over the family table, in short transactions of at most {@code batchSize} families each, so that a
 * refresh never waits long for a row the purge holds:
 * <ol>
 *   <li>families revoked longer ago than the revoked retention, and ended longer ago than the retention, are deleted
 *       (ids are selected first and then deleted by id: MariaDB cannot LIMIT inside an IN sub-query);</li>
 *   <li>live families are walked in id order: one whose client session is gone (logout, expiry, admin sign-out,
 *       offline token revoked) or that is past its own or Keycloak's maximum becomes ENDED; one whose grace window
 *       has passed loses its sealed successor.</li>
 * </ol>
 */
final class FamilyPurge {

    /** A session written moments ago may not be in the database yet (Keycloak persists sessions asynchronously). */
    static final int SESSION_SETTLE_SECONDS = 10;

    private static final String ACTIVE = Family.State.ACTIVE.name();
    private static final String ENDED = Family.State.ENDED.name();
    private static final String REVOKED = Family.State.REVOKED.name();

    private final KeycloakSessionFactory factory;
    private final PurgeSettings settings;
    /** Runs after every batch: the pass is still alive (see {@link FamilyPurgeTask}). */
    private final Runnable heartbeat;
    /** Released when the server stops: the pass ends after the batch at hand, leaving the rest to the next pass. */
    private final CountDownLatch stopSignal;
    private boolean shutDown;

    FamilyPurge(KeycloakSessionFactory factory, PurgeSettings settings, Runnable heartbeat, CountDownLatch stopSignal) {
        this.factory = factory;
        this.settings = settings;
        this.heartbeat = heartbeat;
        this.stopSignal = stopSignal;
    }

    /** What one pass did. */
    record Pass(Map<String, Integer> deletedByRealm, long deleteMillis, int liveChecked, int ended, int successorsCleared,
                long walkMillis, boolean shutDown) {
        long millis() {
            return deleteMillis + walkMillis;
        }

        int deleted() {
            return deletedByRealm.values().stream().mapToInt(Integer::intValue).sum();
        }
    }

    /**
     * Claims this interval's pass for this node: an atomic conditional update, so that of the nodes whose timers fire
     * in one interval exactly one runs the pass (the others find it claimed). A quarter interval of slack absorbs timer drift.
     */
    static boolean claim(KeycloakSessionFactory factory, String task, long nowMillis, long intervalMillis) {
        return KeycloakModelUtils.runJobInTransactionWithResult(factory, session -> em(session)
                .createNativeQuery("UPDATE RG_SCHEDULE SET LAST_RUN = :now WHERE TASK = :task AND LAST_RUN <= :due")
                .setParameter("now", nowMillis)
                .setParameter("task", task)
                .setParameter("due", nowMillis - intervalMillis * 3 / 4)
                .executeUpdate() == 1);
    }

    /**
     * Renews a claim while its pass runs, so that no node claims the next interval before a long pass is over; if the
     * node dies, the renewals stop and another node claims the task once a claim's slack has passed.
     */
    static void renew(KeycloakSessionFactory factory, String task, long nowMillis) {
        KeycloakModelUtils.runJobInTransaction(factory, session -> em(session)
                .createNativeQuery("UPDATE RG_SCHEDULE SET LAST_RUN = :now WHERE TASK = :task AND LAST_RUN < :now")
                .setParameter("now", nowMillis)
                .setParameter("task", task)
                .executeUpdate());
    }

    /**
     * Between two batches: renew the claim, then wait {@code purge-pause} percent of the batch's own time. The pause
     * follows the database's load (a slow batch waits longer), so refreshes are served between batches however busy
     * the database is; a pass over a backlog takes about twice as long at the default.
     *
     * @return false when the server is stopping (signalled, or the thread interrupted): the pass ends after this batch
     */
    private boolean pace(long batchStartedNanos) {
        if (stopSignal.getCount() == 0) {
            shutDown = true;
            return false;
        }
        heartbeat.run();
        long pauseMillis = (System.nanoTime() - batchStartedNanos) / 1_000_000 * settings.pausePercent() / 100;
        try {
            shutDown = stopSignal.await(Math.max(0, pauseMillis), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            shutDown = true;
        }
        return !shutDown;
    }

    Pass run(long now) {
        long started = System.nanoTime();
        Map<String, Integer> deleted = new HashMap<>();
        deleteStopped(REVOKED, now - settings.revokedRetentionSeconds(), deleted);
        if (!shutDown) {
            deleteStopped(ENDED, now - settings.retentionSeconds(), deleted);
        }
        long walkStarted = System.nanoTime();
        int[] live = shutDown ? new int[3] : walkLive(now);
        return new Pass(deleted, (walkStarted - started) / 1_000_000, live[2], live[0], live[1],
                (System.nanoTime() - walkStarted) / 1_000_000, shutDown);
    }

    private void deleteStopped(String state, long stoppedBefore, Map<String, Integer> deletedByRealm) {
        while (true) {
            long batchStarted = System.nanoTime();
            Integer done = KeycloakModelUtils.runJobInTransactionWithResult(factory, session -> {
                EntityManager em = em(session);
                List<?> rows = em.createNativeQuery("SELECT ID, REALM_ID FROM RG_FAMILY WHERE STATE = :state AND REVOKED_AT <= :before")
                        .setParameter("state", state)
                        .setParameter("before", stoppedBefore)
                        .setMaxResults(settings.batchSize())
                        .getResultList();
                if (rows.isEmpty()) {
                    return 0;
                }
                List<String> ids = new ArrayList<>(rows.size());
                Map<String, Integer> byRealm = new HashMap<>();
                for (Object row : rows) {
                    Object[] r = (Object[]) row;
                    ids.add((String) r[0]);
                    byRealm.merge((String) r[1], 1, Integer::sum);
                }
                em.createNativeQuery("DELETE FROM RG_FAMILY WHERE ID IN (:ids) AND STATE = :state")
                        .setParameter("ids", ids)
                        .setParameter("state", state)
                        .executeUpdate();
                byRealm.forEach((realmId, n) -> countPurged(session, realmId, n));
                byRealm.forEach((realmId, n) -> deletedByRealm.merge(realmId, n, Integer::sum));
                return rows.size();
            });
            if (done < settings.batchSize() || !pace(batchStarted)) {
                return;
            }
        }
    }

    /** @return {ended, successors cleared, live families checked} */
    private int[] walkLive(long now) {
        int[] counts = new int[3];
        String[] after = {""};
        Map<String, ClientFacts> clients = new HashMap<>();
        while (true) {
            long batchStarted = System.nanoTime();
            Integer seen = KeycloakModelUtils.runJobInTransactionWithResult(factory, session -> {
                EntityManager em = em(session);
                List<?> rows = em.createNativeQuery("SELECT ID, REALM_ID, CLIENT_ID, SESSION_ID, OFFLINE, GENERATION, CREATED_AT,"
                                + " ROTATED_AT, SUCCESSOR_EXP, CASE WHEN SUCCESSOR <> '' THEN 1 ELSE 0 END, USER_ID"
                                + " FROM RG_FAMILY WHERE STATE = :state AND REVOKED_AT = 0 AND ID > :after ORDER BY ID")
                        .setParameter("state", ACTIVE)
                        .setParameter("after", after[0])
                        .setMaxResults(settings.batchSize())
                        .getResultList();
                if (rows.isEmpty()) {
                    return 0;
                }
                List<Live> batch = new ArrayList<>(rows.size());
                for (Object row : rows) {
                    batch.add(Live.of((Object[]) row));
                }
                after[0] = batch.get(batch.size() - 1).id();
                counts[2] += batch.size();
                Set<String> sessionsHeld = clientSessions(session, batch);
                Map<String, Integer> usersNotBefore = usersNotBefore(session, batch);
                List<String> ended = new ArrayList<>();
                List<String> unsealed = new ArrayList<>();
                long latestUnsealed = 0;
                for (Live f : batch) {
                    ClientFacts client = clients.computeIfAbsent(f.realmId() + '/' + f.clientUuid(), k -> factsOf(session, f));
                    boolean sessionGone = f.createdAt() <= now - SESSION_SETTLE_SECONDS
                            && !sessionsHeld.contains(f.clientSessionKey());
                    int userNotBefore = usersNotBefore.getOrDefault(f.userId(), 0);
                    if (client == null || sessionGone || unusable(f, client, userNotBefore, now)) {
                        ended.add(f.id());
                    } else if (f.sealed() && now - f.rotatedAt() > client.policy().graceSeconds()) {
                        unsealed.add(f.id());
                        latestUnsealed = Math.max(latestUnsealed, f.rotatedAt());
                    }
                }
                if (!ended.isEmpty()) {
                    counts[0] += em.createNativeQuery("UPDATE RG_FAMILY SET STATE = :ended, REVOKED_AT = :now, SUCCESSOR = ''"
                                    + " WHERE ID IN (:ids) AND STATE = :active")
                            .setParameter("ended", ENDED)
                            .setParameter("now", now)
                            .setParameter("ids", ended)
                            .setParameter("active", ACTIVE)
                            .executeUpdate();
                }
                if (!unsealed.isEmpty()) {
                    // A family rotated since it was read has a new successor (and a later ROTATED_AT): it keeps it.
                    counts[1] += em.createNativeQuery("UPDATE RG_FAMILY SET SUCCESSOR = '' WHERE ID IN (:ids) AND ROTATED_AT <= :latest")
                            .setParameter("ids", unsealed)
                            .setParameter("latest", latestUnsealed)
                            .executeUpdate();
                }
                return rows.size();
            });
            if (seen < settings.batchSize() || !pace(batchStarted)) {
                return counts;
            }
        }
    }

    /**
     * Past the family's own maximum (counted from its start, never extended), its own idle time, the expiry of its
     * newest token as the ledger last saw it (which includes Keycloak's own limits), or minted before the realm's or
     * client's not-before (an admin's "push revocation") or the user's (an admin's "Sign out" of the user, which leaves
     * offline sessions in place but makes Keycloak refuse their older tokens). With rotation off the ledger does not
     * see refreshes, so only the maximum counts.
     */
    static boolean unusable(Live f, ClientFacts client, int userNotBefore, long now) {
        Policy policy = client.policy();
        int max = policy.maxSeconds(f.offline());
        if (max > 0 && now > f.createdAt() + max) {
            return true;
        }
        if (!policy.rotation()) {
            return false;
        }
        int idle = policy.idleSeconds(f.offline());
        if (idle > 0 && now > f.rotatedAt() + idle || f.rotatedAt() < Math.max(client.notBefore(), userNotBefore)) {
            return true;
        }
        return f.generation() > 0 && f.newestExp() > 0 && now > f.newestExp();
    }

    /** What the walk needs of a family's client. */
    record ClientFacts(Policy policy, int notBefore) {
    }

    /** The facts of the family's client; null when its realm or client is gone (its rows are orphans then). */
    private static ClientFacts factsOf(KeycloakSession session, Live f) {
        RealmModel realm = session.realms().getRealm(f.realmId());
        ClientModel client = realm == null ? null : session.clients().getClientById(realm, f.clientUuid());
        return client == null ? null : new ClientFacts(GuardRefreshTokenProviderFactory.of(session).policies().of(client),
                Math.max(realm.getNotBefore(), client.getNotBefore()));
    }

    /** "session/client/offline" of every client session still held by the batch's user sessions. */
    private static Set<String> clientSessions(KeycloakSession session, List<Live> batch) {
        Set<String> sessionIds = new HashSet<>();
        batch.forEach(f -> sessionIds.add(f.sessionId()));
        Set<String> held = new HashSet<>();
        // Offline sessions always live in the database; online ones too unless persistent sessions are switched off.
        for (Object row : em(session).createNativeQuery("SELECT USER_SESSION_ID, CLIENT_ID, OFFLINE_FLAG FROM OFFLINE_CLIENT_SESSION"
                        + " WHERE USER_SESSION_ID IN (:ids)")
                .setParameter("ids", sessionIds)
                .getResultList()) {
            Object[] r = (Object[]) row;
            held.add(r[0] + "/" + r[1] + "/" + "1".equals(r[2]));
        }
        if (!Profile.isFeatureEnabled(Profile.Feature.PERSISTENT_USER_SESSIONS)) {
            for (Live f : batch) {
                if (!f.offline() && onlineClientSessionExists(session, f)) {
                    held.add(f.clientSessionKey());
                }
            }
        }
        return held;
    }

    /**
     * The not-before of the batch's users who have one. Read from Keycloak's user table: local users and users
     * imported from a federation provider (a provider without import keeps its own and is not consulted).
     */
    private static Map<String, Integer> usersNotBefore(KeycloakSession session, List<Live> batch) {
        Set<String> userIds = new HashSet<>();
        batch.forEach(f -> userIds.add(f.userId()));
        Map<String, Integer> notBefore = new HashMap<>();
        for (Object row : em(session).createNativeQuery("SELECT ID, NOT_BEFORE FROM USER_ENTITY WHERE ID IN (:ids) AND NOT_BEFORE > 0")
                .setParameter("ids", userIds)
                .getResultList()) {
            Object[] r = (Object[]) row;
            notBefore.put((String) r[0], ((Number) r[1]).intValue());
        }
        return notBefore;
    }

    private static boolean onlineClientSessionExists(KeycloakSession session, Live f) {
        RealmModel realm = session.realms().getRealm(f.realmId());
        UserSessionModel userSession = realm == null ? null : session.sessions().getUserSession(realm, f.sessionId());
        AuthenticatedClientSessionModel clientSession = userSession == null ? null
                : userSession.getAuthenticatedClientSessionByClient(f.clientUuid());
        return clientSession != null;
    }

    private static void countPurged(KeycloakSession session, String realmId, int count) {
        RealmModel realm = session.realms().getRealm(realmId);
        GuardRefreshTokenProviderFactory.of(session).alerts().familiesPurged(realm == null ? realmId : realm.getName(), count);
    }

    private static EntityManager em(KeycloakSession session) {
        return session.getProvider(JpaConnectionProvider.class).getEntityManager();
    }

    /** What the walk reads of a live family. */
    record Live(String id, String realmId, String clientUuid, String sessionId, boolean offline, int generation,
                long createdAt, long rotatedAt, long newestExp, boolean sealed, String userId) {

        static Live of(Object[] r) {
            return new Live((String) r[0], (String) r[1], (String) r[2], (String) r[3], bool(r[4]), (int) number(r[5]),
                    number(r[6]), number(r[7]), number(r[8]), number(r[9]) != 0, (String) r[10]);
        }

        String clientSessionKey() {
            return sessionId + "/" + clientUuid + "/" + offline;
        }

        private static long number(Object value) {
            return value == null ? 0 : ((Number) value).longValue();
        }

        private static boolean bool(Object value) {
            if (value instanceof Boolean b) {
                return b;
            }
            return value instanceof Number n && n.intValue() != 0;
        }
    }
}
