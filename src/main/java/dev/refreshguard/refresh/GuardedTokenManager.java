package dev.refreshguard.refresh;

import org.keycloak.events.EventBuilder;
import org.keycloak.models.ClientModel;
import org.keycloak.models.ClientSessionContext;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserSessionModel;
import org.keycloak.protocol.oidc.TokenManager;
import org.keycloak.representations.AccessTokenResponse;

/**
 * Keycloak's TokenManager, except that the response builder runs the family's rotate step once the response,
 * and so the successor token, exists. This is the one seam that lets the step run after every Keycloak check
 * and before the response leaves, without copying any of Keycloak's refresh logic.
 */
final class GuardedTokenManager extends TokenManager {

    private final RefreshStep step;

    GuardedTokenManager(RefreshStep step) {
        this.step = step;
    }

    @Override
    public AccessTokenResponseBuilder responseBuilder(RealmModel realm, ClientModel client, EventBuilder event,
                                                     KeycloakSession session, UserSessionModel userSession,
                                                     ClientSessionContext clientSessionCtx) {
        if (step == null) {
            return super.responseBuilder(realm, client, event, session, userSession, clientSessionCtx);
        }
        return new GuardedResponseBuilder(realm, client, event, session, userSession, clientSessionCtx, this, step);
    }

    private static final class GuardedResponseBuilder extends AccessTokenResponseBuilder {

        private final RefreshStep step;
        private boolean stepped;

        GuardedResponseBuilder(RealmModel realm, ClientModel client, EventBuilder event, KeycloakSession session,
                               UserSessionModel userSession, ClientSessionContext clientSessionCtx,
                               TokenManager tokenManager, RefreshStep step) {
            super(realm, client, event, session, userSession, clientSessionCtx, tokenManager);
            this.step = step;
        }

        @Override
        public AccessTokenResponse build() {
            AccessTokenResponse response = super.build();
            if (!stepped) {
                stepped = true;
                step.complete(response, getRefreshToken());
            }
            return response;
        }
    }
}
