package dev.refreshguard.reuse;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.keycloak.common.util.Time;
import org.keycloak.models.AbstractKeycloakTransaction;
import org.keycloak.models.AuthenticatedClientSessionModel;
import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.UserSessionModel;
import org.keycloak.services.managers.AuthenticationManager;
import org.keycloak.services.managers.UserSessionManager;

import dev.refreshguard.metrics.GuardMetrics;
import dev.refreshguard.spi.RefreshGuard;
import dev.refreshguard.store.Family;
import dev.refreshguard.store.FamilyRevocations;
import dev.refreshguard.store.RevocationReason;

/**
 * Everything a revocation needs: where, which family, why (kept on each revoked family for admins). Every
 * revocation — reuse, admin, the RFC 7009 revocation endpoint, the session-wide actions — revokes families only
 * through this scope's steps, so each is recorded and counted alike: {@code refresh_guard_family_revoked_total} goes
 * up by one per family that changed to REVOKED, under that family's own client. Runs in the session's transaction.
 */
public record RevocationScope(KeycloakSession session, RealmModel realm, Family family, RevocationReason reason, long now,
                              boolean detached) implements RevocationSteps {

    /** A scope for revoking {@code family} now, inside an HTTP request. */
    public static RevocationScope of(KeycloakSession session, RealmModel realm, Family family, RevocationReason reason) {
        return new RevocationScope(session, realm, family, reason, Time.currentTime(), false);
    }

    private FamilyRevocations revocations() {
        return RefreshGuard.of(session).store().revocations();
    }

    /** The family and its token-exchange descendants. */
    @Override
    public List<Family> revokeTree() {
        return counted(revocations().revokeWithDescendants(family.id(), reason, now));
    }

    /** Every online family of the family's user session, with descendants. */
    @Override
    public List<Family> revokeOnlineSession() {
        return counted(revocations().revokeOnlineSession(realm.getId(), family.sessionId(), reason, now));
    }

    /** Every family of the family's user, online and offline, with descendants. */
    @Override
    public List<Family> revokeUser() {
        return counted(revocations().revokeUser(realm.getId(), family.userId(), reason, now));
    }

    private List<Family> counted(List<Family> revoked) {
        Map<String, Integer> byClient = new LinkedHashMap<>();
        for (Family f : revoked) {
            byClient.merge(f.clientUuid(), 1, Integer::sum);
        }
        Map<String, Integer> byClientId = new LinkedHashMap<>();
        byClient.forEach((clientUuid, count) -> byClientId.put(clientIdOf(clientUuid), count));
        // Counted once the revocation is committed: a rolled-back request (redone by DurableRevocation) counts once.
        GuardMetrics metrics = RefreshGuard.of(session).metrics();
        session.getTransactionManager().enlistAfterCompletion(new AbstractKeycloakTransaction() {
            @Override
            protected void commitImpl() {
                byClientId.forEach((clientId, count) -> metrics.familiesRevoked(realm.getName(), clientId, count));
            }

            @Override
            protected void rollbackImpl() {
            }
        });
        return revoked;
    }

    /** The client as dashboards know it; its internal id when the client was deleted since. */
    private String clientIdOf(String clientUuid) {
        ClientModel client = session.clients().getClientById(realm, clientUuid);
        return client == null ? clientUuid : client.getClientId();
    }

    /**
     * Ends the client sessions that the given families' tokens live in, so that their access tokens are refused by
     * userinfo and introspection as well.
     */
    @Override
    public int endClientSessions(List<Family> families) {
        int ended = 0;
        for (Family f : families) {
            UserSessionModel userSession = f.offline()
                    ? session.sessions().getOfflineUserSession(realm, f.sessionId())
                    : session.sessions().getUserSession(realm, f.sessionId());
            if (userSession == null) {
                continue;
            }
            AuthenticatedClientSessionModel clientSession = userSession.getAuthenticatedClientSessionByClient(f.clientUuid());
            if (clientSession != null) {
                clientSession.detachFromUserSession();
                ended++;
            }
        }
        return ended;
    }

    @Override
    public boolean endUserSession() {
        UserSessionModel userSession = session.sessions().getUserSession(realm, family.sessionId());
        if (userSession == null) {
            return false;
        }
        endOnline(userSession);
        return true;
    }

    /**
     * Ends an online user session: with backchannel logout inside a request; {@link #detached} (the durable redo, on a
     * thread of its own) there is no request for Keycloak's logout to build its URLs from, so the session is removed
     * without it — it ends all the same, and clients see it gone at their next token use.
     */
    private void endOnline(UserSessionModel userSession) {
        if (detached) {
            session.sessions().removeUserSession(realm, userSession);
            return;
        }
        AuthenticationManager.backchannelLogout(session, realm, userSession, session.getContext().getUri(),
                session.getContext().getConnection(), session.getContext().getRequestHeaders(), true);
    }

    @Override
    public int endAllSessionsOfUser() {
        UserModel user = session.users().getUserById(realm, family.userId());
        if (user == null) {
            return 0;
        }
        int sessions = 0;
        List<UserSessionModel> online = session.sessions().getUserSessionsStream(realm, user).toList();
        for (UserSessionModel userSession : online) {
            endOnline(userSession);
            sessions++;
        }
        List<UserSessionModel> offline = session.sessions().getOfflineUserSessionsStream(realm, user).toList();
        UserSessionManager offlineSessions = new UserSessionManager(session);
        for (UserSessionModel userSession : offline) {
            offlineSessions.revokeOfflineUserSession(userSession);
            sessions++;
        }
        return sessions;
    }
}
