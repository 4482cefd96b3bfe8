package dev.refreshguard.refresh;

import java.util.Optional;

import org.keycloak.OAuth2Constants;
import org.keycloak.OAuthErrorException;
import org.keycloak.common.util.Time;
import org.keycloak.models.AuthenticatedClientSessionModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.utils.KeycloakModelUtils;
import org.keycloak.protocol.oidc.TokenManager;
import org.keycloak.protocol.oidc.grants.OAuth2GrantType;
import org.keycloak.protocol.oidc.refresh.DefaultRefreshTokenProvider;
import org.keycloak.protocol.oidc.refresh.InitialRefreshTokenContext;
import org.keycloak.protocol.oidc.refresh.RefreshTokenContext;
import org.keycloak.representations.RefreshToken;
import org.keycloak.util.TokenUtil;

import dev.refreshguard.alert.AlertChannels;
import dev.refreshguard.alert.GuardSwitch;
import dev.refreshguard.family.Family;
import dev.refreshguard.family.FamilyClaims;
import dev.refreshguard.family.FamilyLedger;
import dev.refreshguard.family.IssuingFamily;
import dev.refreshguard.family.NewFamily;
import dev.refreshguard.policy.Lifetimes;
import dev.refreshguard.policy.Policy;
import dev.refreshguard.policy.PolicyReader;

/**
 * Keycloak's default refresh-token handling, with families around it: every validation, session update and
 * token shape stays Keycloak's own; this class adds the family claims, the lifetime limits, and — once the
 * response is built — the ledger's atomic rotate step.
 */
final class GuardRefreshTokenProvider extends DefaultRefreshTokenProvider {

    /** Session attribute: the refresh under way, so the successor token joins the presented token's family. */
    private static final String REFRESH_UNDER_WAY = "dev.refreshguard.refresh";

    private final PolicyReader policies;
    private final AlertChannels alerts;

    GuardRefreshTokenProvider(KeycloakSession session, PolicyReader policies, AlertChannels alerts) {
        super(session);
        this.policies = policies;
        this.alerts = alerts;
    }

    @Override
    public boolean supports(InitialRefreshTokenContext ctx) {
        return GuardSwitch.isOn(ctx.clientSessionCtx().getClientSession().getRealm());
    }

    @Override
    public boolean supports(RefreshTokenContext ctx) {
        return super.supports(ctx) && GuardSwitch.isOn(ctx.grantContext().getRealm());
    }

    @Override
    public RefreshToken generateRefreshToken(InitialRefreshTokenContext ctx) {
        RefreshToken token = super.generateRefreshToken(ctx);
        AuthenticatedClientSessionModel clientSession = ctx.clientSessionCtx().getClientSession();
        boolean offline = TokenUtil.TOKEN_TYPE_OFFLINE.equals(token.getType());
        long now = token.getIat();

        RefreshUnderWay refresh = session.getAttribute(REFRESH_UNDER_WAY, RefreshUnderWay.class);
        Policy policy = refresh != null ? refresh.policy() : policies.of(clientSession.getClient());
        FamilyClaims claims = refresh != null && refresh.claims() != null
                ? refresh.claims().successor(policy.rotation())
                : startFamily(clientSession, token, offline, now);
        claims.writeTo(token);
        IssuingFamily.stamp(ctx.responseBuilder().getAccessToken(), claims);

        long keycloakExp = token.getExp() == null ? 0 : token.getExp();
        long exp = Lifetimes.expiry(keycloakExp, now, claims.startedAt(), policy.idleSeconds(offline), policy.maxSeconds(offline));
        token.exp(exp > 0 ? exp : null);
        return token;
    }

    /** Generation 0 of a new family: a grant, a token exchange, or a token minted before the realm was protected. */
    private FamilyClaims startFamily(AuthenticatedClientSessionModel clientSession, RefreshToken token, boolean offline, long now) {
        String familyId = KeycloakModelUtils.generateId();
        FamilyLedger.of(session).start(new NewFamily(familyId, clientSession.getRealm().getId(),
                clientSession.getClient().getId(), clientSession.getUserSession().getUser().getId(), token.getSessionId(),
                offline, session.getAttribute(NewFamily.PARENT_ATTRIBUTE, String.class), now,
                session.getContext().getConnection().getRemoteAddr()));
        return new FamilyClaims(familyId, 0, now);
    }

    @Override
    public TokenManager.AccessTokenResponseBuilder refreshAccessToken(RefreshTokenContext ctx) throws OAuthErrorException {
        RefreshToken presented = ctx.oldRefreshToken();
        OAuth2GrantType.Context grant = ctx.grantContext();
        Policy policy = policies.of(grant.getClient());
        boolean offline = TokenUtil.TOKEN_TYPE_OFFLINE.equals(presented.getType());
        Optional<FamilyClaims> claims = FamilyClaims.of(presented);
        RefreshErrors errors = new RefreshErrors(grant);
        long now = Time.currentTime();

        if (claims.isPresent() && Lifetimes.expired(now, claims.get().startedAt(), presented.getIat(),
                policy.idleSeconds(offline), policy.maxSeconds(offline))) {
            throw errors.expired(claims.get());
        }

        RefreshStep step = claims
                .map(c -> new RefreshStep(session, grant, c, grant.getFormParams().getFirst(OAuth2Constants.REFRESH_TOKEN),
                        policy, alerts, errors))
                .orElse(null);
        session.setAttribute(REFRESH_UNDER_WAY, new RefreshUnderWay(claims.orElse(null), policy));
        try {
            return super.refreshAccessToken(new RefreshTokenContext(presented, grant, ctx.grant(), new GuardedTokenManager(step),
                    ctx.scopeParameter(), ctx.resourceParameter()));
        } catch (OAuthErrorException e) {
            // Revoking a family ends its client session, so Keycloak's own checks refuse first: say why.
            if (claims.isPresent()) {
                Optional<Family> family = FamilyLedger.of(session).find(claims.get().familyId());
                if (family.isPresent() && family.get().revoked()) {
                    throw errors.familyRevoked(family.get());
                }
            }
            throw e;
        } finally {
            session.removeAttribute(REFRESH_UNDER_WAY);
        }
    }

    private record RefreshUnderWay(FamilyClaims claims, Policy policy) {
    }
}
