package dev.refreshguard.policy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import jakarta.ws.rs.core.MultivaluedHashMap;

import org.jboss.logging.Logger;
import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.protocol.oidc.OIDCAdvancedConfigWrapper;
import org.keycloak.representations.idm.ClientPoliciesRepresentation;
import org.keycloak.representations.idm.ClientPolicyConditionConfigurationRepresentation;
import org.keycloak.representations.idm.ClientPolicyConditionRepresentation;
import org.keycloak.representations.idm.ClientPolicyRepresentation;
import org.keycloak.representations.idm.ClientProfileRepresentation;
import org.keycloak.representations.idm.ClientProfilesRepresentation;
import org.keycloak.services.clientpolicy.ClientPolicyVote;
import org.keycloak.services.clientpolicy.condition.ClientPolicyConditionProvider;
import org.keycloak.services.clientpolicy.context.TokenRefreshContext;
import org.keycloak.util.JsonSerialization;

/**
 * What Keycloak's own configuration does to a client's rotation, for the effective-policy endpoint and the alert
 * line of a refresh where Keycloak builds no successor: a client that
 * does not use refresh tokens, and enabled client policies whose profile drops the new refresh token on a refresh
 * (executor {@code suppress-refresh-token-rotation}), with their conditions evaluated for this client as Keycloak
 * evaluates them on a refresh. The refresh path does not need this to decide (it sees the dropped token itself); it asks
 * only once per client and server, to name the cause in its alert line.
 */
public final class KeycloakRotation {

    static final String SUPPRESS_EXECUTOR = "suppress-refresh-token-rotation";
    private static final Logger LOG = Logger.getLogger(KeycloakRotation.class);

    private KeycloakRotation() {
    }

    /** The {@code rotation} block of the policy endpoint: effective value, configured value, causes. */
    public static Map<String, Object> describe(KeycloakSession session, RealmModel realm, ClientModel client, Policy policy) {
        List<Map<String, Object>> causes = new ArrayList<>();
        boolean usesRefreshTokens = OIDCAdvancedConfigWrapper.fromClientModel(client).isUseRefreshToken();
        if (!usesRefreshTokens) {
            causes.add(cause("client attribute use.refresh.tokens=false",
                    "Keycloak issues this client no refresh token; refresh tokens issued before are still accepted by"
                            + " Keycloak and refresh-guard serves only each family's newest one, without rotating it"));
        }
        boolean keptRotating = false;
        for (String policyName : suppressingPolicies(session, realm, client)) {
            boolean overridden = usesRefreshTokens && policy.rotation() && PolicyReader.kindOf(client).needsRotation();
            keptRotating |= overridden;
            causes.add(cause("client policy '" + policyName + "' (executor " + SUPPRESS_EXECUTOR + ")", overridden
                    ? "ignored for this public client without DPoP-bound tokens: refresh-guard keeps rotating its refresh"
                            + " tokens (RFC 9700 section 2.2.2), as it refuses rotation 'off' for it; honoured for a refresh"
                            + " token bound by DPoP or mTLS, which is sender-constrained"
                    : "Keycloak returns no new refresh token on a refresh; refresh-guard serves only each family's newest"
                            + " token, without rotating it"));
        }
        boolean rotates = policy.rotation() && usesRefreshTokens && (keptRotating || causes.isEmpty());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("effective", rotates ? "on" : "off");
        out.put("configured", policy.rotation() ? "on" : "off");
        out.put("causes", causes);
        return out;
    }

    private static Map<String, Object> cause(String setting, String effect) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("setting", setting);
        c.put("effect", effect);
        return c;
    }

    /** Names of the enabled client policies (realm, then global) that drop the new refresh token of this client. */
    private static List<String> suppressingPolicies(KeycloakSession session, RealmModel realm, ClientModel client) {
        try {
            ClientProfilesRepresentation profiles = session.clientPolicy().getClientProfiles(realm, true);
            Set<String> suppressing = Stream.concat(list(profiles.getProfiles()).stream(), list(profiles.getGlobalProfiles()).stream())
                    .filter(p -> list(p.getExecutors()).stream().anyMatch(e -> SUPPRESS_EXECUTOR.equals(e.getExecutorProviderId())))
                    .map(ClientProfileRepresentation::getName)
                    .collect(Collectors.toSet());
            if (suppressing.isEmpty()) {
                return List.of();
            }
            ClientPoliciesRepresentation policies = session.clientPolicy().getClientPolicies(realm, true);
            return Stream.concat(list(policies.getPolicies()).stream(), list(policies.getGlobalPolicies()).stream())
                    .filter(KeycloakRotation::enabled)
                    .filter(p -> list(p.getProfiles()).stream().anyMatch(suppressing::contains))
                    .filter(p -> applies(session, p, client))
                    .map(ClientPolicyRepresentation::getName)
                    .toList();
        } catch (Exception e) {
            // Keycloak refused to read its own policies: say nothing rather than fail the whole endpoint.
            LOG.debugf(e, "refresh-guard: cannot read the client policies of realm '%s'", realm.getName());
            return List.of();
        }
    }

    private static boolean enabled(ClientPolicyRepresentation p) {
        if (p.getMode() != null) {
            return !"disabled".equalsIgnoreCase(p.getMode());
        }
        return p.isEnabled() == null || p.isEnabled();
    }

    /**
     * Keycloak's rule (DefaultClientPolicyManager.isSatisfied): no condition, or any NO, and the policy does not apply;
     * an ABSTAIN is skipped (in mode strict it counts as NO); at least one YES is needed. A condition that cannot be evaluated here counts as applying:
     * the endpoint errs towards telling.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static boolean applies(KeycloakSession session, ClientPolicyRepresentation policy, ClientModel client) {
        boolean yes = false;
        for (ClientPolicyConditionRepresentation c : list(policy.getConditions())) {
            ClientPolicyVote vote;
            try {
                ClientPolicyConditionProvider provider = session.getProvider(ClientPolicyConditionProvider.class,
                        c.getConditionProviderId());
                if (provider == null) {
                    return false; // Keycloak skips a policy whose condition provider is missing as well
                }
                if (c.getConfiguration() != null) {
                    Class<? extends ClientPolicyConditionConfigurationRepresentation> type = provider.getConditionConfigurationClass();
                    provider.setupConfiguration(JsonSerialization.mapper.convertValue(c.getConfiguration(), type));
                }
                vote = provider.applyPolicy(new TokenRefreshContext(new MultivaluedHashMap<>(), client, null));
                if (provider.isNegativeLogic() && vote != ClientPolicyVote.ABSTAIN) {
                    vote = vote == ClientPolicyVote.YES ? ClientPolicyVote.NO : ClientPolicyVote.YES;
                }
            } catch (Exception e) {
                vote = ClientPolicyVote.YES;
            }
            if (vote == ClientPolicyVote.NO || vote == ClientPolicyVote.ABSTAIN && "strict".equalsIgnoreCase(policy.getMode())) {
                return false;
            }
            yes |= vote == ClientPolicyVote.YES;
        }
        return yes;
    }

    private static <T> List<T> list(List<T> list) {
        return list == null ? List.of() : list;
    }
}
