package dev.refreshguard.refresh;

import org.keycloak.OAuthErrorException;
import org.keycloak.common.ClientConnection;
import org.keycloak.events.EventBuilder;
import org.keycloak.models.AuthenticatedClientSessionModel;
import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.utils.KeycloakModelUtils;
import org.keycloak.protocol.oidc.TokenManager;
import org.keycloak.protocol.oidc.refresh.DefaultRefreshTokenProvider;
import org.keycloak.protocol.oidc.refresh.InitialRefreshTokenContext;
import org.keycloak.protocol.oidc.refresh.RefreshTokenContext;
import org.keycloak.representations.RefreshToken;
import org.keycloak.util.TokenUtil;

import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.UriInfo;

import dev.refreshguard.family.FamilyClaims;
import dev.refreshguard.family.IssuingFamily;
import dev.refreshguard.family.ParentFamily;
import dev.refreshguard.policy.Lifetimes;
import dev.refreshguard.policy.Policy;
import dev.refreshguard.policy.Protection;
import dev.refreshguard.spi.RefreshGuard;
import dev.refreshguard.store.NewFamily;

/**
 * Keycloak's default refresh-token handling, with families around it: every validation, session update and
 * token shape stays Keycloak's own. A refresh is one {@link RefreshStep}, carried by the {@link GuardedTokenManager}
 * this provider hands to Keycloak; a token from a grant (or exchange) starts a family here.
 */
final class GuardRefreshTokenProvider extends DefaultRefreshTokenProvider {

    private final RefreshGuard guard;

    GuardRefreshTokenProvider(KeycloakSession session, RefreshGuard guard) {
        super(session);
        this.guard = guard;
    }

    @Override
    public boolean supports(InitialRefreshTokenContext ctx) {
        return guard.protection(ctx.clientSessionCtx().getClientSession().getRealm()) != Protection.STOCK;
    }

    @Override
    public boolean supports(RefreshTokenContext ctx) {
        return super.supports(ctx) && guard.protection(ctx.grantContext().getRealm()) != Protection.STOCK;
    }

    /**
     * The realm's protection for a step that writes the ledger. A realm seen protected is remembered once, so that
     * switching it off later keeps the ledger's bookkeeping.
     */
    private Protection protection(RealmModel realm) {
        Protection protection = guard.protection(realm);
        if (protection == Protection.ON) {
            guard.rememberProtected(realm);
        }
        return protection;
    }

    @Override
    public RefreshToken generateRefreshToken(InitialRefreshTokenContext ctx) {
        RefreshToken token = super.generateRefreshToken(ctx);
        AuthenticatedClientSessionModel clientSession = ctx.clientSessionCtx().getClientSession();
        RefreshStep refresh = ctx.responseBuilder() instanceof GuardedTokenManager.GuardedResponseBuilder guarded
                ? guarded.step() : null;
        Policy policy = refresh != null ? refresh.policy() : guard.policy(clientSession.getClient());
        boolean limits = refresh != null ? refresh.limitsLifetimes() : protection(clientSession.getRealm()) == Protection.ON;

        // The family of the token being issued: the one place it is known.
        FamilyClaims claims = refresh != null ? refresh.successorClaims() : startFamily(clientSession, token);
        claims.writeTo(token);
        IssuingFamily.stamp(ctx.responseBuilder().getAccessToken(), claims);

        if (limits) {
            boolean offline = TokenUtil.TOKEN_TYPE_OFFLINE.equals(token.getType());
            long keycloakExp = token.getExp() == null ? 0 : token.getExp();
            long exp = Lifetimes.expiry(keycloakExp, token.getIat(), claims.startedAt(), policy.idleSeconds(offline),
                    policy.maxSeconds(offline));
            token.exp(exp > 0 ? exp : null);
        }
        return token;
    }

    /** Generation 0 of a new family: a grant or a token exchange. */
    private FamilyClaims startFamily(AuthenticatedClientSessionModel clientSession, RefreshToken token) {
        String familyId = KeycloakModelUtils.generateId();
        long now = token.getIat();
        guard.store().ledger().start(new NewFamily(familyId, clientSession.getRealm().getId(),
                clientSession.getClient().getId(), clientSession.getUserSession().getUser().getId(), token.getSessionId(),
                TokenUtil.TOKEN_TYPE_OFFLINE.equals(token.getType()), ParentFamily.of(session), now,
                session.getContext().getConnection().getRemoteAddr()));
        return new FamilyClaims(familyId, 0, now);
    }

    @Override
    public TokenManager.AccessTokenResponseBuilder refreshAccessToken(RefreshTokenContext ctx) throws OAuthErrorException {
        ClientModel client = ctx.grantContext().getClient();
        RefreshStep step = RefreshStep.start(session, guard, ctx.grantContext(), guard.policy(client),
                protection(ctx.grantContext().getRealm()), ctx.oldRefreshToken());
        try {
            return super.refreshAccessToken(new RefreshTokenContext(ctx.oldRefreshToken(), ctx.grantContext(), ctx.grant(),
                    new GuardedTokenManager(step), ctx.scopeParameter(), ctx.resourceParameter()));
        } catch (OAuthErrorException e) {
            step.keycloakRefused();
            throw e;
        }
    }

    /** Keycloak's own validation, unchanged; then the step learns the client session the token lives in. */
    @Override
    protected TokenManager.TokenValidation validateToken(KeycloakSession session, UriInfo uriInfo, ClientConnection connection,
                                                        RealmModel realm, RefreshToken refreshToken, HttpHeaders headers,
                                                        String scope, ClientModel client, TokenManager tokenManager,
                                                        EventBuilder event) throws OAuthErrorException {
        TokenManager.TokenValidation validation = super.validateToken(session, uriInfo, connection, realm, refreshToken, headers,
                scope, client, tokenManager, event);
        if (tokenManager instanceof GuardedTokenManager guarded) {
            guarded.step().validated(validation.clientSessionCtx.getClientSession());
        }
        return validation;
    }
}
