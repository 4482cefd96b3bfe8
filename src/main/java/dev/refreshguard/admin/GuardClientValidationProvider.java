package dev.refreshguard.admin;

import java.util.List;

import org.jboss.logging.Logger;
import org.keycloak.http.HttpRequest;
import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
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
        List<String> problems = Policy.problemsOfClientAttributes(client.getAttributes(), client.getRealm()::getAttribute,
                PolicyReader.kindOf(client));
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
