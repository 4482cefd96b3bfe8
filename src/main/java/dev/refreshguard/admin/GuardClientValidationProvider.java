package dev.refreshguard.admin;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import jakarta.ws.rs.core.HttpHeaders;

import org.jboss.logging.Logger;
import org.keycloak.http.HttpRequest;
import org.keycloak.models.ClientModel;
import org.keycloak.jose.jws.JWSInput;
import org.keycloak.jose.jws.JWSInputException;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.UserSessionModel;
import org.keycloak.models.utils.KeycloakModelUtils;
import org.keycloak.representations.AccessToken;
import org.keycloak.services.resources.admin.AdminAuth;
import org.keycloak.services.resources.admin.fgap.AdminPermissions;
import org.keycloak.validation.ClientValidationContext;
import org.keycloak.validation.ClientValidationProvider;
import org.keycloak.validation.ValidationContext;
import org.keycloak.validation.ValidationResult;

import dev.refreshguard.policy.Policy;
import dev.refreshguard.policy.PolicyReader;

/**
 * Keycloak's own client validation, then refresh-guard's: every problem {@link Policy#problemsOfClientAttributes} finds becomes
 * a validation error, which the admin REST API and client registration answer with HTTP 400 and the messages.
 */
final class GuardClientValidationProvider implements ClientValidationProvider {

    private static final Logger LOG = Logger.getLogger(GuardClientValidationProvider.class);
    /** Keycloak's validator, still registered under its own id. */
    private static final String KEYCLOAK_DEFAULT = "default";

    private final KeycloakSession session;

    GuardClientValidationProvider(KeycloakSession session) {
        this.session = session;
    }

    @Override
    public ValidationResult validate(ValidationContext<ClientModel> context) {
        ClientValidationProvider keycloak = keycloakValidator();
        if (keycloak != null) {
            keycloak.validate(context);
        }
        return addPolicyProblems(context);
    }

    @Override
    public ValidationResult validate(ClientValidationContext.OIDCContext context) {
        ClientValidationProvider keycloak = keycloakValidator();
        if (keycloak != null) {
            keycloak.validate(context);
        }
        return addPolicyProblems(context);
    }

    private ClientValidationProvider keycloakValidator() {
        return session.getProvider(ClientValidationProvider.class, KEYCLOAK_DEFAULT);
    }

    /** Keycloak's errors are in the context already; ours join them, so the admin sees every problem at once. */
    private ValidationResult addPolicyProblems(ValidationContext<ClientModel> context) {
        ClientModel client = context.getObjectToValidate();
        if (client == null) {
            return context.toResult();
        }
        List<String> problems = new ArrayList<>(Policy.problemsOfClientAttributes(client.getAttributes(),
                client.getRealm()::getAttribute, PolicyReader.kindOf(client)));
        List<String> beyond = Policy.problemsBeyondClient(client::getAttribute, key -> null);
        if (!beyond.isEmpty() && !importingRealm() && !callerMayManageRealm(client.getRealm())) {
            // Only a change is refused: a value a realm admin set stays, and others may still edit the client.
            Function<String, String> stored = storedAttributes(client);
            @SuppressWarnings("unchecked")
            Map<String, String> byPolicy = session.getAttribute(Policy.SET_BY_CLIENT_POLICY) instanceof Map<?, ?> m
                    ? (Map<String, String>) m : Map.of();
            problems.addAll(Policy.problemsBeyondClient(client::getAttribute,
                    key -> byPolicy.containsKey(key) ? byPolicy.get(key) : stored.apply(key)));
        }
        if (problems.isEmpty()) {
            return context.toResult();
        }
        if (importingRealm()) {
            // A realm import turns any refusal into HTTP 500 or a failed start: imported values are accepted and, like
            // realm attributes, fall back to their defaults at runtime (logged, and shown by the policy endpoint).
            LOG.warnf("refresh-guard: imported client '%s' of realm '%s': %s; the defaults apply instead",
                    client.getClientId(), client.getRealm().getName(), String.join("; ", problems));
            return context.toResult();
        }
        for (String problem : problems) {
            context.addError("attributes", problem);
        }
        return context.toResult();
    }

    /**
     * Whether the caller is an admin (admin REST API) who may manage the realm, fine-grained permissions included.
     * Dynamic client registration and anything else without an admin token may not. Keycloak authenticated the admin
     * request before the validation runs, so its bearer token is read, not verified again.
     */
    private boolean callerMayManageRealm(RealmModel realm) {
        try {
            HttpRequest request = session.getContext().getHttpRequest();
            if (request == null || request.getUri() == null || !request.getUri().getPath().contains("/admin/realms/")) {
                return false;
            }
            String header = request.getHttpHeaders().getHeaderString(HttpHeaders.AUTHORIZATION);
            if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
                return false;
            }
            AccessToken token = new JWSInput(header.substring(7).trim()).readJsonContent(AccessToken.class);
            String issuer = token.getIssuer();
            RealmModel adminRealm = issuer == null ? null : session.realms().getRealmByName(issuer.substring(issuer.lastIndexOf('/') + 1));
            UserModel admin = adminRealm == null ? null : adminOf(adminRealm, token);
            if (admin == null) {
                return false;
            }
            // As Keycloak's admin endpoints evaluate it: the admin's own realm and client (master admins included).
            AdminAuth auth = new AdminAuth(adminRealm, token, admin, adminRealm.getClientByClientId(token.getIssuedFor()));
            return AdminPermissions.evaluator(session, realm, auth).realm().canManageRealm();
        } catch (JWSInputException | RuntimeException e) {
            LOG.debugf(e, "refresh-guard: cannot tell whether the caller may manage realm '%s'", realm.getName());
            return false;
        }
    }

    /** The token's user: by {@code sub}, or — a lightweight access token, as admin-cli's may be — by its session. */
    private UserModel adminOf(RealmModel adminRealm, AccessToken token) {
        if (token.getSubject() != null) {
            return session.users().getUserById(adminRealm, token.getSubject());
        }
        UserSessionModel userSession = token.getSessionId() == null ? null
                : session.sessions().getUserSession(adminRealm, token.getSessionId());
        return userSession == null ? null : userSession.getUser();
    }

    /** The client's attributes as committed before this request (none for a new client): read in a session of its own. */
    private Function<String, String> storedAttributes(ClientModel client) {
        String realmId = client.getRealm().getId();
        String clientUuid = client.getId();
        Map<String, String> stored = KeycloakModelUtils.runJobInTransactionWithResult(session.getKeycloakSessionFactory(), own -> {
            RealmModel realm = own.realms().getRealm(realmId);
            ClientModel before = realm == null || clientUuid == null ? null : own.clients().getClientById(realm, clientUuid);
            return before == null ? Map.<String, String>of() : new HashMap<>(before.getAttributes());
        });
        return stored::get;
    }

    /** Whether this validation is part of a realm import: the realm import endpoint, or an import with no request (startup). */
    private boolean importingRealm() {
        HttpRequest request;
        try {
            request = session.getContext().getHttpRequest();
        } catch (RuntimeException noRequest) {
            // Keycloak signals "no HTTP request" (import at startup, kc.sh import) with ContextNotActiveException.
            return true;
        }
        if (request == null || request.getUri() == null) {
            return true;
        }
        String path = request.getUri().getPath();
        return path.endsWith("/admin/realms") || path.endsWith("/admin/realms/") || path.endsWith("/partialImport");
    }
}
