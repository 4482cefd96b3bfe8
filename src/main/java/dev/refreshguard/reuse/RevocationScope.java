package dev.refreshguard.reuse;

import java.util.List;

import org.keycloak.models.AuthenticatedClientSessionModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserSessionModel;

import dev.refreshguard.family.Family;
import dev.refreshguard.family.FamilyLedger;

/** Everything a revocation needs: where, which family, and why (kept on the family for admins). */
public record RevocationScope(KeycloakSession session, RealmModel realm, FamilyLedger ledger, Family family,
                              String reason, long now) {

    /**
     * Ends the client sessions that the given families' tokens live in, so that their access tokens are refused by
     * userinfo and introspection as well.
     */
    int endClientSessions(List<Family> families) {
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
}
