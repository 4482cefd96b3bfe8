package dev.refreshguard.console;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.keycloak.representations.idm.ClientPolicyExecutorConfigurationRepresentation;
import org.keycloak.services.clientpolicy.ClientPolicyException;

import dev.refreshguard.policy.ClientKind;
import dev.refreshguard.policy.Policy;

/**
 * The {@code refresh-guard} executor's configuration as Keycloak stores it in a client profile: the form's fields
 * by name (see {@link PolicyField}). Keycloak checks it when a profile is saved.
 */
public class GuardExecutorConfiguration extends ClientPolicyExecutorConfigurationRepresentation {

    /** The executor's form: one field per per-client attribute; a blank field or 'keep' leaves the client's value. */
    static final PolicyField.Form FORM = new PolicyField.Form("keep",
            "Writes the client attribute %s when a client this policy applies to is created or saved",
            "the client keeps its own value, else the realm's, else the default.");

    /** The client attributes this configuration writes, by key; only fields that ask for a value. */
    Map<String, String> attributes() {
        Map<String, String> out = new LinkedHashMap<>();
        Map<String, Object> config = getConfigAsMap();
        for (PolicyField field : PolicyField.clientFields()) {
            String value = field.requested(key -> config == null ? null : config.get(key), FORM);
            if (value != null) {
                out.put(field.attribute().key(), value);
            }
        }
        return out;
    }

    /**
     * The same rules and messages as a client update through the admin REST API (the {@code policy} package): a
     * refused value, or a max below idle, is refused here, when the profile is saved. Whether rotation may be off
     * depends on the client, so that rule is checked when a client is saved.
     */
    @Override
    public boolean validateConfig() {
        List<String> problems = Policy.problemsOfClientAttributes(attributes(), key -> null, ClientKind.CONFIDENTIAL);
        if (problems.isEmpty()) {
            return true;
        }
        // Keycloak answers a plain "false" with its own text, which names no field. It turns a ClientPolicyException
        // thrown while it validates a profile into HTTP 400 with the exception's text, which the console shows: that
        // one carries our message. validateConfig cannot declare it, hence the unchecked rethrow.
        throw RefusedConfiguration.<RuntimeException>rethrow(new ClientPolicyException(String.join("; ", problems)));
    }

    private static final class RefusedConfiguration {
        @SuppressWarnings("unchecked")
        static <E extends Throwable> E rethrow(Throwable checked) throws E {
            throw (E) checked;
        }
    }
}
