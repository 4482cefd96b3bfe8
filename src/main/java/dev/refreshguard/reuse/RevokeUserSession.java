package dev.refreshguard.reuse;

import org.keycloak.models.UserSessionModel;
import org.keycloak.services.managers.AuthenticationManager;

/** The user session of that login ends for all its clients, with backchannel logout; offline sessions are untouched. */
public final class RevokeUserSession implements Revocation {

    @Override
    public Revoked apply(RevocationScope scope) {
        Revoked family = new RevokeFamily().apply(scope);
        int families = scope.revokeOnlineSession().size();
        UserSessionModel userSession = scope.session().sessions().getUserSession(scope.realm(), scope.family().sessionId());
        if (userSession == null) {
            return family.plus(new Revoked(0, families));
        }
        AuthenticationManager.backchannelLogout(scope.session(), scope.realm(), userSession,
                scope.session().getContext().getUri(), scope.session().getContext().getConnection(),
                scope.session().getContext().getRequestHeaders(), true);
        return new Revoked(1, family.families() + families);
    }
}
