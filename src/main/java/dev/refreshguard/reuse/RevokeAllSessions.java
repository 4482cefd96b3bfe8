package dev.refreshguard.reuse;

import java.util.List;

import org.keycloak.models.KeycloakSession;
import org.keycloak.models.UserModel;
import org.keycloak.models.UserSessionModel;
import org.keycloak.services.managers.AuthenticationManager;
import org.keycloak.services.managers.UserSessionManager;

/** Every session of the user, online and offline, ends. */
public final class RevokeAllSessions implements Revocation {

    @Override
    public Revoked apply(RevocationScope scope) {
        KeycloakSession session = scope.session();
        int families = new RevokeFamily().apply(scope).families() + scope.revokeUser().size();
        UserModel user = session.users().getUserById(scope.realm(), scope.family().userId());
        if (user == null) {
            return new Revoked(0, families);
        }
        int sessions = 0;
        List<UserSessionModel> online = session.sessions().getUserSessionsStream(scope.realm(), user).toList();
        for (UserSessionModel userSession : online) {
            AuthenticationManager.backchannelLogout(session, scope.realm(), userSession, session.getContext().getUri(),
                    session.getContext().getConnection(), session.getContext().getRequestHeaders(), true);
            sessions++;
        }
        List<UserSessionModel> offline = session.sessions().getOfflineUserSessionsStream(scope.realm(), user).toList();
        UserSessionManager offlineSessions = new UserSessionManager(session);
        for (UserSessionModel userSession : offline) {
            offlineSessions.revokeOfflineUserSession(userSession);
            sessions++;
        }
        return new Revoked(sessions, families);
    }
}
