package dev.refreshguard.admin;

import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.validation.ClientValidationContext;
import org.keycloak.validation.ClientValidationProvider;
import org.keycloak.validation.ValidationContext;
import org.keycloak.validation.ValidationResult;

import dev.refreshguard.policy.Policy;
import dev.refreshguard.policy.PolicyReader;

/**
 * Keycloak's own client validation, then refresh-guard's: every problem {@link Policy#clientProblems} finds becomes
 * a validation error, which Keycloak answers with HTTP 400 and the messages.
 */
final class GuardClientValidationProvider implements ClientValidationProvider {

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
    private static ValidationResult addPolicyProblems(ValidationContext<ClientModel> context) {
        ClientModel client = context.getObjectToValidate();
        if (client != null) {
            for (String problem : Policy.clientProblems(client.getAttributes(), client.getRealm()::getAttribute,
                    PolicyReader.kindOf(client))) {
                context.addError("attributes", problem);
            }
        }
        return context.toResult();
    }
}
