package dev.refreshguard.refresh;

import org.keycloak.OAuthErrorException;
import org.keycloak.events.EventBuilder;
import org.keycloak.models.AuthenticatedClientSessionModel;
import org.keycloak.models.ClientModel;
import org.keycloak.models.ClientSessionContext;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserSessionModel;
import org.keycloak.protocol.oidc.TokenManager;
import org.keycloak.representations.AccessToken;
import org.keycloak.representations.AccessTokenResponse;

/**
 * Keycloak's TokenManager for one refresh, carrying that refresh's {@link RefreshStep} explicitly: its response
 * builder runs the ledger step at the start of {@code build()} — after every Keycloak check, before the successor is
 * encoded — and it is the builder that {@code generateRefreshToken} receives, so the step reaches it without any
 * session attribute. None of Keycloak's refresh logic is copied.
 */
final class GuardedTokenManager extends TokenManager {

    private final RefreshStep step;

    GuardedTokenManager(RefreshStep step) {
        this.step = step;
    }

    RefreshStep step() {
        return step;
    }

    @Override
    public AccessTokenResponseBuilder responseBuilder(RealmModel realm, ClientModel client, EventBuilder event,
                                                     KeycloakSession session, UserSessionModel userSession,
                                                     ClientSessionContext clientSessionCtx) {
        return new GuardedResponseBuilder(realm, client, event, session, userSession, clientSessionCtx, this, step);
    }

    /**
     * Keycloak's "Revoke Refresh Token" check (realm.revokeRefreshToken / refreshTokenMaxReuse). Its bookkeeping
     * (the client session's current token and use count) still runs, so that a realm switched off later carries on
     * exactly as stock; only its refusal is replaced where the ledger's stricter check is in force.
     */
    @Override
    public void validateTokenReuse(KeycloakSession session, RealmModel realm, AccessToken refreshToken,
                                   AuthenticatedClientSessionModel clientSession, boolean refreshFlag) throws OAuthErrorException {
        try {
            super.validateTokenReuse(session, realm, refreshToken, clientSession, refreshFlag);
        } catch (OAuthErrorException e) {
            if (!step.replacesKeycloakReuseCheck()) {
                throw e;
            }
        }
    }

    static final class GuardedResponseBuilder extends AccessTokenResponseBuilder {

        private final RefreshStep step;
        private boolean stepped;

        GuardedResponseBuilder(RealmModel realm, ClientModel client, EventBuilder event, KeycloakSession session,
                               UserSessionModel userSession, ClientSessionContext clientSessionCtx,
                               TokenManager tokenManager, RefreshStep step) {
            super(realm, client, event, session, userSession, clientSessionCtx, tokenManager);
            this.step = step;
        }

        RefreshStep step() {
            return step;
        }

        @Override
        public AccessTokenResponse build() {
            boolean first = !stepped;
            stepped = true;
            if (first) {
                if (getRefreshToken() == null && step.rotatesDespiteKeycloak()) {
                    // What Keycloak built before the executor dropped it; logged once, shown on the policy endpoint.
                    generateRefreshToken(step.presentedToken(), getClientSessionCtx().getClientSession());
                    step.reportRotationKept();
                }
                step.beforeEncoding(getRefreshToken());
            }
            AccessTokenResponse response = super.build();
            if (first) {
                step.afterEncoding(response);
            }
            return response;
        }
    }
}
