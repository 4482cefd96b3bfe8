package dev.refreshguard.exchange;

import java.util.Optional;

import jakarta.ws.rs.core.Response;

import org.keycloak.OAuth2Constants;
import org.keycloak.common.util.Time;
import org.keycloak.models.KeycloakSession;
import org.keycloak.protocol.oidc.TokenExchangeContext;
import org.keycloak.protocol.oidc.TokenExchangeProvider;

import dev.refreshguard.exchange.SubjectFamily.Standing;
import dev.refreshguard.family.ParentFamily;
import dev.refreshguard.policy.Protection;
import dev.refreshguard.spi.RefreshGuard;

/**
 * Keycloak's token exchange, standard (v2) and, where the feature {@code token-exchange} is on, legacy (v1), unchanged —
 * same requests, responses and permission checks — except that a subject token whose family is revoked or expired is
 * refused, and a refresh token the exchange mints starts a child family of the subject token's family (the refresh
 * provider reads the parent from the session).
 */
final class GuardTokenExchangeProvider implements TokenExchangeProvider {

    /** Keycloak's standard token exchange (v2) provider, which does the actual exchange. */
    static final String STANDARD = "standard";
    /**
     * Keycloak's legacy token exchange (v1, feature {@code token-exchange}): every request standard declines routes to
     * it ({@code subject_issuer}, {@code requested_subject}, {@code requested_issuer}, a client without standard
     * exchange enabled). Wrapped the same way, so that none of those shapes mints a refresh token outside the family
     * of its subject token or from a revoked one.
     */
    static final String LEGACY = "default";

    private final KeycloakSession session;
    private final RefreshGuard guard;

    GuardTokenExchangeProvider(KeycloakSession session, RefreshGuard guard) {
        this.session = session;
        this.guard = guard;
    }

    @Override
    public boolean supports(TokenExchangeContext context) {
        return guard.protection(context.getRealm()) == Protection.ON && delegate(context) != null;
    }

    @Override
    public Response exchange(TokenExchangeContext context) {
        // Read with a lock when a child family is about to start: the parent is held until this transaction ends.
        Optional<SubjectFamily> subject;
        try {
            subject = SubjectFamily.of(session, guard, context, mintsRefreshToken(context));
        } catch (RuntimeException e) {
            // The subject's family locked by a dead node's transaction: a bounded wait, then 503.
            throw guard.unavailable(e, context.getCors(), "Token exchange", null);
        }
        if (subject.isPresent()) {
            SubjectFamily parent = subject.get();
            Standing standing = parent.standing(Time.currentTime());
            if (standing != Standing.ALIVE) {
                throw new ExchangeRefusal(context).familyNotAlive(parent, standing);
            }
            ParentFamily.set(session, parent.familyId());
        }
        try {
            return delegate(context).exchange(context);
        } finally {
            ParentFamily.clear(session);
        }
    }

    /** Only a refresh token starts a child family, so only then is the parent held until the transaction ends. */
    private static boolean mintsRefreshToken(TokenExchangeContext context) {
        return OAuth2Constants.REFRESH_TOKEN_TYPE.equals(context.getParams().getRequestedTokenType());
    }

    /** The provider Keycloak itself would choose: standard when it supports the request, else legacy (when enabled). */
    private TokenExchangeProvider delegate(TokenExchangeContext context) {
        TokenExchangeProvider standard = session.getProvider(TokenExchangeProvider.class, STANDARD);
        if (standard != null && standard.supports(context)) {
            return standard;
        }
        TokenExchangeProvider legacy = session.getProvider(TokenExchangeProvider.class, LEGACY);
        return legacy != null && legacy.supports(context) ? legacy : null;
    }

    @Override
    public void close() {
    }
}
