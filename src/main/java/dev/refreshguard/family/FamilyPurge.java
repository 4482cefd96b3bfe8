package dev.refreshguard.family;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.keycloak.common.Profile;
import org.keycloak.models.AuthenticatedClientSessionModel;
import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserSessionModel;
import org.keycloak.models.utils.KeycloakModelUtils;

import dev.refreshguard.policy.Policy;
import dev.refreshguard.spi.PurgeSettings;
import dev.refreshguard.spi.RefreshGuard;
import dev.refreshguard.store.Family.State;
import dev.refreshguard.store.FamilyCleanup;
import dev.refreshguard.store.LiveFamily;

/**
 * One purge pass over the family table, in short transactions of at most {@code batchSize} families each, so that a
 * refresh never waits long for a row the purge holds. This class holds the pacing and the rules of what is
 * purgeable; the statements are the store's ({@link FamilyCleanup}):
 * <ol>
 *   <li>families revoked longer ago than the revoked retention, and ended longer ago than the retention, are deleted;</li>
 *   <li>live families are walked in id order: one whose client session is gone (logout, expiry, admin sign-out,
 *       offline token revoked) or that is past its own or Keycloak's maximum becomes ENDED; one whose grace window
 *       has passed loses its sealed successor.</li>
 * </ol>
 */
final class FamilyPurge {

    /** A session written moments ago may not be in the database yet (Keycloak persists sessions asynchronously). */
    static final int SESSION_SETTLE_SECONDS = 10;

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
        deleteStopped(State.REVOKED, now - settings.revokedRetentionSeconds(), deleted);
        if (!shutDown) {
            deleteStopped(State.ENDED, now - settings.retentionSeconds(), deleted);
        }
        long walkStarted = System.nanoTime();
        int[] live = shutDown ? new int[3] : walkLive(now);
        return new Pass(deleted, (walkStarted - started) / 1_000_000, live[2], live[0], live[1],
                (System.nanoTime() - walkStarted) / 1_000_000, shutDown);
    }

    private void deleteStopped(State state, long stoppedBefore, Map<String, Integer> deletedByRealm) {
        while (true) {
            long batchStarted = System.nanoTime();
            Integer done = KeycloakModelUtils.runJobInTransactionWithResult(factory, session -> {
                Map<String, Integer> byRealm = RefreshGuard.of(session).store().cleanup()
                        .deleteStopped(state, stoppedBefore, settings.batchSize());
                byRealm.forEach((realmId, n) -> countPurged(session, realmId, n));
                byRealm.forEach((realmId, n) -> deletedByRealm.merge(realmId, n, Integer::sum));
                return byRealm.values().stream().mapToInt(Integer::intValue).sum();
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
                RefreshGuard guard = RefreshGuard.of(session);
                FamilyCleanup cleanup = guard.store().cleanup();
                List<LiveFamily> batch = cleanup.liveAfter(after[0], settings.batchSize());
                if (batch.isEmpty()) {
                    return 0;
                }
                after[0] = batch.get(batch.size() - 1).id();
                counts[2] += batch.size();
                Set<String> sessionsHeld = clientSessions(session, guard, batch);
                Map<String, Integer> usersNotBefore = guard.store().keycloakTables()
                        .usersNotBefore(batch.stream().map(LiveFamily::userId).distinct().toList());
                List<String> ended = new ArrayList<>();
                List<String> unsealed = new ArrayList<>();
                long latestUnsealed = 0;
                for (LiveFamily f : batch) {
                    ClientFacts client = clients.computeIfAbsent(f.realmId() + '/' + f.clientUuid(), k -> factsOf(session, guard, f));
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
                    counts[0] += cleanup.end(ended, now);
                }
                if (!unsealed.isEmpty()) {
                    counts[1] += cleanup.clearSuccessors(unsealed, latestUnsealed);
                }
                return batch.size();
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
     * offline sessions in place but makes Keycloak refuse their older tokens). With rotation off the ledger counts the
     * tokens it issues but every earlier one stays usable, so only the maximum counts.
     */
    static boolean unusable(LiveFamily f, ClientFacts client, int userNotBefore, long now) {
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
    private static ClientFacts factsOf(KeycloakSession session, RefreshGuard guard, LiveFamily f) {
        RealmModel realm = session.realms().getRealm(f.realmId());
        ClientModel client = realm == null ? null : session.clients().getClientById(realm, f.clientUuid());
        return client == null ? null : new ClientFacts(guard.policy(client), Math.max(realm.getNotBefore(), client.getNotBefore()));
    }

    /** "session/client/offline" of every client session still held by the batch's user sessions. */
    private static Set<String> clientSessions(KeycloakSession session, RefreshGuard guard, List<LiveFamily> batch) {
        Set<String> held = new HashSet<>(guard.store().keycloakTables()
                .storedClientSessions(batch.stream().map(LiveFamily::sessionId).distinct().toList()));
        // Online sessions are stored only while persistent user sessions are on: otherwise ask Keycloak's session store.
        if (!Profile.isFeatureEnabled(Profile.Feature.PERSISTENT_USER_SESSIONS)) {
            for (LiveFamily f : batch) {
                if (!f.offline() && onlineClientSessionExists(session, f)) {
                    held.add(f.clientSessionKey());
                }
            }
        }
        return held;
    }

    private static boolean onlineClientSessionExists(KeycloakSession session, LiveFamily f) {
        RealmModel realm = session.realms().getRealm(f.realmId());
        UserSessionModel userSession = realm == null ? null : session.sessions().getUserSession(realm, f.sessionId());
        AuthenticatedClientSessionModel clientSession = userSession == null ? null
                : userSession.getAuthenticatedClientSessionByClient(f.clientUuid());
        return clientSession != null;
    }

    private static void countPurged(KeycloakSession session, String realmId, int count) {
        RealmModel realm = session.realms().getRealm(realmId);
        RefreshGuard.of(session).metrics().familiesPurged(realm == null ? realmId : realm.getName(), count);
    }
}
