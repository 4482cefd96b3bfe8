package dev.refreshguard.account;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;

import org.keycloak.provider.ServerInfoAwareProviderFactory;
import org.keycloak.authentication.AuthenticationProcessor;
import org.keycloak.authentication.actiontoken.AbstractActionTokenHandler;
import org.keycloak.authentication.actiontoken.ActionTokenContext;
import org.keycloak.common.util.Time;
import org.keycloak.events.Errors;
import org.keycloak.events.EventBuilder;
import org.keycloak.events.EventType;
import org.keycloak.forms.login.LoginFormsProvider;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.services.Urls;
import org.keycloak.services.managers.AuthenticationSessionManager;
import org.keycloak.sessions.AuthenticationSessionCompoundId;
import org.keycloak.sessions.AuthenticationSessionModel;

import dev.refreshguard.Jar;
import dev.refreshguard.alert.AlertVocabulary;
import dev.refreshguard.alert.WasntMeToken;
import dev.refreshguard.policy.Policy;
import dev.refreshguard.reuse.Revocation;
import dev.refreshguard.reuse.RevocationScope;
import dev.refreshguard.reuse.RevokeAllSessions;
import dev.refreshguard.spi.RefreshGuard;
import dev.refreshguard.store.Family;
import dev.refreshguard.store.RevocationReason;

/**
 * "This wasn't me": the handler of the link in a user's reuse letter ({@link WasntMeToken}). Keycloak has checked
 * the signature, the expiry, the realm and that the user exists and is enabled (else its own 400 page). The first
 * visit only asks for confirmation (a mail scanner fetching the link must not sign the user out); the confirmation
 * ends every session of the user, online and offline, revokes all the user's families, optionally requires a new
 * password, and raises the event and the JSON line. The link then counts as used: a second use gets a 400 page.
 */
public final class WasntMeHandler extends AbstractActionTokenHandler<WasntMeToken> implements ServerInfoAwareProviderFactory {

    /** Event detail: whether the user must choose a new password at the next sign-in. */
    static final String UPDATE_PASSWORD = "update_password";
    private static final int MAX_FAMILY_ID = 36;

    public WasntMeHandler() {
        super(Jar.PROVIDER_ID, WasntMeToken.class, "refreshGuardWasntMeInvalid", EventType.EXECUTE_ACTION_TOKEN,
                Errors.INVALID_TOKEN);
    }

    /** Used once is checked here, with a page of our own, rather than by Keycloak's generic "action expired". */
    @Override
    public boolean canUseTokenRepeatedly(WasntMeToken token, ActionTokenContext<WasntMeToken> context) {
        return true;
    }

    @Override
    public Response handleToken(WasntMeToken token, ActionTokenContext<WasntMeToken> context) {
        KeycloakSession session = context.getSession();
        RealmModel realm = context.getRealm();
        AuthenticationSessionModel authSession = context.getAuthenticationSession();
        EventBuilder event = context.getEvent().detail(AlertVocabulary.FAMILY_ID, shortened(token.familyId()));
        LoginFormsProvider forms = session.getProvider(LoginFormsProvider.class);

        if (session.revokedTokens().contains(token.serializeKey())) {
            event.error(Errors.EXPIRED_CODE);
            return done(session, realm, authSession, forms.setAttribute("skipLink", true).setError("refreshGuardWasntMeUsed")
                    .createErrorPage(Response.Status.BAD_REQUEST));
        }
        UserModel user = session.users().getUserById(realm, token.getUserId());
        Optional<Family> family = token.familyId() == null || token.familyId().length() > MAX_FAMILY_ID ? Optional.empty()
                : RefreshGuard.of(session).store().queries().find(token.familyId());
        // Signed by the realm, so only a bug could bind a user to a family not theirs; refused all the same.
        if (user == null || family.filter(f -> !f.realmId().equals(realm.getId()) || !f.userId().equals(user.getId())).isPresent()) {
            event.error(Errors.INVALID_TOKEN);
            return done(session, realm, authSession, forms.setAttribute("skipLink", true).setError("refreshGuardWasntMeInvalid")
                    .createErrorPage(Response.Status.BAD_REQUEST));
        }

        if (context.isAuthenticationSessionFresh()) {
            // The same token, bound to this browser's authentication session: only a visit that carries its cookie acts.
            token.setCompoundAuthenticationSessionId(AuthenticationSessionCompoundId.fromAuthSession(authSession).getEncodedId());
            UriInfo uri = context.getUriInfo();
            String confirm = Urls.actionTokenBuilder(uri.getBaseUri(), token.serialize(session, realm, uri),
                    authSession.getClient().getClientId(), authSession.getTabId(),
                    AuthenticationProcessor.getClientData(session, authSession)).build(realm.getName()).toString();
            return forms.setAuthenticationSession(authSession).setUser(user)
                    .setSuccess("refreshGuardWasntMeConfirm")
                    .setAttribute("messageHeader", "refreshGuardWasntMeTitle")
                    .setAttribute("actionUri", confirm)
                    .createInfoPage();
        }

        session.revokedTokens().put(token.serializeKey(), Math.max(1, token.getExp() - Time.currentTime() + 1));
        Policy policy = Policy.ofRealm(realm::getAttribute);
        Family scope = family.orElseGet(() -> purged(realm, user, token.familyId()));
        Revocation.Result ended = new RevokeAllSessions()
                .apply(RevocationScope.of(session, realm, scope, RevocationReason.WASNT_ME));
        if (policy.wasntMeUpdatePassword()) {
            user.addRequiredAction(UserModel.RequiredAction.UPDATE_PASSWORD);
        }

        Map<String, String> details = new LinkedHashMap<>();
        details.put(AlertVocabulary.FAMILY_ID, scope.id());
        details.put(AlertVocabulary.SESSIONS_REVOKED, Integer.toString(ended.sessions()));
        details.put(AlertVocabulary.FAMILIES_REVOKED, Integer.toString(ended.families()));
        details.put(UPDATE_PASSWORD, Boolean.toString(policy.wasntMeUpdatePassword()));
        RefreshGuard.of(session).alerts().wasntMe(session, event.user(user), realm, details);

        return done(session, realm, authSession, forms.setUser(user).setAttribute("skipLink", true)
                .setAttribute("messageHeader", "refreshGuardWasntMeTitle")
                .setSuccess(policy.wasntMeUpdatePassword() ? "refreshGuardWasntMeDonePassword" : "refreshGuardWasntMeDone")
                .createInfoPage());
    }

    /** The authentication session Keycloak opened for the link has served its purpose. */
    private static Response done(KeycloakSession session, RealmModel realm, AuthenticationSessionModel authSession, Response page) {
        if (authSession != null) {
            new AuthenticationSessionManager(session).removeAuthenticationSession(realm, authSession, true);
        }
        return page;
    }

    /** The family was purged since the letter (past its retention): the user's other sessions still end. */
    private static Family purged(RealmModel realm, UserModel user, String familyId) {
        return new Family(familyId, realm.getId(), "", user.getId(), "", false, null, 0, 0, 0, null, Family.State.REVOKED, 0, 0,
                RevocationReason.WASNT_ME.word());
    }

    private static String shortened(String value) {
        return value == null ? AlertVocabulary.UNKNOWN : value.length() > MAX_FAMILY_ID ? value.substring(0, MAX_FAMILY_ID) : value;
    }

    /** The JAR's version in the server info, as every other provider of this JAR (it is its own factory). */
    @Override
    public Map<String, String> getOperationalInfo() {
        return Jar.info();
    }
}
