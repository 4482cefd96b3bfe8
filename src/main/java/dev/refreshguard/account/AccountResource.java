package dev.refreshguard.account;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriBuilder;

import org.keycloak.events.EventBuilder;
import org.keycloak.events.EventType;
import org.keycloak.forms.login.LoginFormsProvider;
import org.keycloak.models.ClientModel;
import org.keycloak.models.Constants;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.UserSessionModel;
import org.keycloak.models.AccountRoles;
import org.keycloak.representations.AccessToken;
import org.keycloak.services.managers.AppAuthManager;
import org.keycloak.services.managers.AuthenticationManager;
import org.keycloak.services.managers.AuthenticationManager.AuthResult;

import dev.refreshguard.alert.AlertVocabulary;
import dev.refreshguard.reuse.Revocation;
import dev.refreshguard.reuse.RevocationScope;
import dev.refreshguard.reuse.RevokeFamily;
import dev.refreshguard.spi.RefreshGuard;
import dev.refreshguard.store.Family;
import dev.refreshguard.store.RevocationReason;

/**
 * {@code /realms/{realm}/refresh-guard/account}: the signed-in user's own live refresh-token families (client, started,
 * last used, last IP, offline or not), each with a revoke button.
 * <ul>
 *   <li>{@code GET account}: the page, in the realm's login theme, for the user of the browser's SSO session (signed in
 *       through the account console); its revoke buttons POST a form that carries a per-session anti-CSRF token.</li>
 *   <li>{@code GET account/api/families}, {@code POST account/api/families/{id}/revoke}: the same as JSON for a bearer
 *       access token of the user with the {@code account} client's {@code manage-account} role (no cookies: no CSRF).</li>
 * </ul>
 * Only the user's own families: another user's family id is as unknown as one that never existed (404), nothing revoked.
 */
final class AccountResource {

    /** User session note holding the page's anti-CSRF token. */
    static final String CSRF_NOTE = "refresh-guard.csrf";
    private static final int MAX_FAMILY_ID = 36;
    private static final int MAX_LISTED = 1000;
    private static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final KeycloakSession session;
    private final RealmModel realm;

    AccountResource(KeycloakSession session) {
        this.session = session;
        this.realm = session.getContext().getRealm();
    }

    // ---- the page (SSO cookie + anti-CSRF token) -------------------------------------------------------------------

    @GET
    @Path("account")
    @Produces(MediaType.TEXT_HTML)
    public Response page() {
        AuthResult auth = AuthenticationManager.authenticateIdentityCookie(session, realm, true);
        LoginFormsProvider forms = session.getProvider(LoginFormsProvider.class);
        if (auth == null) {
            return forms.setAttribute("accountUrl", accountConsole().toString())
                    .setStatus(Response.Status.UNAUTHORIZED).createForm("refresh-guard-account.ftl");
        }
        UserModel user = auth.user();
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Family family : liveFamilies(user)) {
            Map<String, Object> row = describe(family);
            row.put("revokeUrl", pageUri().path("families").path(family.id()).path("revoke").build().toString());
            rows.add(row);
        }
        return forms.setUser(user)
                .setAttribute("families", rows)
                .setAttribute("csrf", csrfToken(auth.session()))
                .setAttribute("accountUrl", accountConsole().toString())
                .createForm("refresh-guard-account.ftl");
    }

    @POST
    @Path("account/families/{id}/revoke")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @Produces(MediaType.TEXT_HTML)
    public Response revokeFromPage(@PathParam("id") String familyId, @FormParam("csrf") String csrf) {
        AuthResult auth = AuthenticationManager.authenticateIdentityCookie(session, realm, true);
        if (auth == null) {
            return errorPage(Response.Status.UNAUTHORIZED, "refreshGuardAccountSignIn");
        }
        String expected = auth.session().getNote(CSRF_NOTE);
        if (expected == null || csrf == null || !MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8),
                csrf.getBytes(StandardCharsets.UTF_8))) {
            return errorPage(Response.Status.FORBIDDEN, "refreshGuardAccountStale");
        }
        if (ownLiveFamily(auth.user(), familyId).map(f -> revoke(auth, f)).isEmpty()) {
            return errorPage(Response.Status.NOT_FOUND, "refreshGuardAccountUnknown");
        }
        // Post/redirect/get: a reload shows the list, it does not post again.
        return Response.seeOther(pageUri().build()).build();
    }

    // ---- the API (bearer token) -----------------------------------------------------------------------------------

    @GET
    @Path("account/api/families")
    @Produces(MediaType.APPLICATION_JSON)
    public Response families() {
        AuthResult auth = bearer();
        if (auth == null) {
            return unauthorized();
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (Family family : liveFamilies(auth.user())) {
            out.add(describe(family));
        }
        return Response.ok(out).build();
    }

    @POST
    @Path("account/api/families/{id}/revoke")
    @Produces(MediaType.APPLICATION_JSON)
    public Response revokeFromApi(@PathParam("id") String familyId) {
        AuthResult auth = bearer();
        if (auth == null) {
            return unauthorized();
        }
        return ownLiveFamily(auth.user(), familyId).map(f -> {
            Revocation.Result revoked = revoke(auth, f);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("id", f.id());
            body.put("state", Family.State.REVOKED.name());
            body.put("familiesRevoked", revoked.families());
            body.put("clientSessionsEnded", revoked.sessions());
            return Response.ok(body).build();
        }).orElseGet(() -> Response.status(Response.Status.NOT_FOUND).type(MediaType.APPLICATION_JSON)
                .entity(Map.of("error", "not_found", "error_description", "Family not found")).build());
    }

    // ---------------------------------------------------------------------------------------------------------------

    private List<Family> liveFamilies(UserModel user) {
        return RefreshGuard.of(session).store().queries().pageOfUser(realm.getId(), user.getId(), Family.State.ACTIVE, 0, MAX_LISTED);
    }

    /** The family if it is a live family of this user in this realm; anything else is as unknown as a made-up id. */
    private Optional<Family> ownLiveFamily(UserModel user, String familyId) {
        if (familyId == null || familyId.length() > MAX_FAMILY_ID) {
            return Optional.empty();
        }
        return RefreshGuard.of(session).store().queries().find(familyId)
                .filter(f -> f.realmId().equals(realm.getId()) && f.userId().equals(user.getId()) && f.state() == Family.State.ACTIVE);
    }

    /** The family and its token-exchange descendants, as an admin's revocation does; a REVOKE_GRANT event records it. */
    private Revocation.Result revoke(AuthResult auth, Family family) {
        Revocation.Result revoked = new RevokeFamily().apply(RevocationScope.of(session, realm, family, RevocationReason.USER));
        new EventBuilder(realm, session, session.getContext().getConnection())
                .event(EventType.REVOKE_GRANT)
                .user(auth.user())
                .session(auth.session())
                .client(clientIdOf(family))
                .detail(AlertVocabulary.FAMILY_ID, family.id())
                .detail(AlertVocabulary.FAMILIES_REVOKED, Integer.toString(revoked.families()))
                .detail("revoked_by", "user")
                .success();
        return revoked;
    }

    private Map<String, Object> describe(Family family) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("id", family.id());
        f.put("clientId", clientIdOf(family));
        f.put("offline", family.offline());
        f.put("started", WHEN.format(Instant.ofEpochSecond(family.createdAt())));
        f.put("lastUsed", WHEN.format(Instant.ofEpochSecond(family.rotatedAt())));
        f.put("lastIp", family.rotatedByIp() == null ? "" : family.rotatedByIp());
        f.put("created", family.createdAt());
        f.put("lastRotation", family.rotatedAt());
        return f;
    }

    private String clientIdOf(Family family) {
        ClientModel client = session.clients().getClientById(realm, family.clientUuid());
        return client == null ? family.clientUuid() : client.getClientId();
    }

    /** A bearer access token of this realm's user, allowed to manage their own account; null otherwise. */
    private AuthResult bearer() {
        AuthResult auth = new AppAuthManager.BearerTokenAuthenticator(session).setRealm(realm)
                .setConnection(session.getContext().getConnection())
                .setHeaders(session.getContext().getRequestHeaders())
                .authenticate();
        if (auth == null || auth.user() == null) {
            return null;
        }
        AccessToken.Access account = auth.token().getResourceAccess(Constants.ACCOUNT_MANAGEMENT_CLIENT_ID);
        return account != null && account.isUserInRole(AccountRoles.MANAGE_ACCOUNT) ? auth : null;
    }

    private static Response unauthorized() {
        return Response.status(Response.Status.UNAUTHORIZED).type(MediaType.APPLICATION_JSON)
                .header("WWW-Authenticate", "Bearer")
                .entity(Map.of("error", "invalid_token", "error_description",
                        "A bearer access token of the user with the account client's manage-account role is required"))
                .build();
    }

    /** The page's anti-CSRF token: random, one per user session, kept in a note of that session. */
    private static String csrfToken(UserSessionModel userSession) {
        String token = userSession.getNote(CSRF_NOTE);
        if (token == null) {
            byte[] bytes = new byte[32];
            RANDOM.nextBytes(bytes);
            token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
            userSession.setNote(CSRF_NOTE, token);
        }
        return token;
    }

    private Response errorPage(Response.Status status, String message) {
        return session.getProvider(LoginFormsProvider.class).setAttribute("skipLink", true).setError(message)
                .createErrorPage(status);
    }

    private UriBuilder pageUri() {
        return UriBuilder.fromUri(session.getContext().getUri().getBaseUri()).path("realms").path(realm.getName())
                .path("refresh-guard").path("account");
    }

    private URI accountConsole() {
        return UriBuilder.fromUri(session.getContext().getUri().getBaseUri()).path("realms").path(realm.getName())
                .path("account").path("").build();
    }
}
