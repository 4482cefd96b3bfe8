package dev.refreshguard.policy;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.jboss.logging.Logger;
import org.keycloak.models.ClientModel;
import org.keycloak.models.RealmModel;
import org.keycloak.protocol.oidc.OIDCConfigAttributes;

/**
 * Reads a client's effective policy from Keycloak's cached client and realm models. A stored value that is
 * refused (realm import, realm attributes) falls back to its default and is logged at ERROR once per server.
 */
public final class PolicyReader {

    private static final Logger LOG = Logger.getLogger(PolicyReader.class);
    private static final int MAX_REPORTED = 10_000;

    private final Set<String> reported = ConcurrentHashMap.newKeySet();

    public Policy of(ClientModel client) {
        RealmModel realm = client.getRealm();
        Policy policy = Policy.resolve(client::getAttribute, realm::getAttribute, kindOf(client));
        for (Setting invalid : policy.invalidSettings()) {
            reportOnce(realm, client, invalid);
        }
        return policy;
    }

    public static ClientKind kindOf(ClientModel client) {
        return new ClientKind(client.isPublicClient(), Boolean.parseBoolean(client.getAttribute(OIDCConfigAttributes.DPOP_BOUND_ACCESS_TOKENS)));
    }

    /**
     * Keycloak dropped the successor of a public client without sender-constrained tokens (a client-policy executor)
     * and refresh-guard kept rotating: an admin's setting is overridden, so say so once per client and server.
     */
    public void reportRotationKept(ClientModel client) {
        RealmModel realm = client.getRealm();
        if (reported.size() < MAX_REPORTED && reported.add(realm.getId() + '/' + client.getId() + "/rotation-kept")) {
            LOG.errorf("refresh-guard: realm '%s', client '%s': a client policy drops the new refresh token of this public"
                    + " client without DPoP-bound tokens (e.g. executor suppress-refresh-token-rotation); refresh tokens"
                    + " keep rotating (RFC 9700 section 2.2.2), see GET .../refresh-guard/policy?client_id=%s",
                    realm.getName(), client.getClientId(), client.getClientId());
        }
    }

    private void reportOnce(RealmModel realm, ClientModel client, Setting invalid) {
        // A refused realm value is one mistake however many clients inherit it: one line per realm, not per client.
        String owner = invalid.source() == Setting.Source.REALM ? realm.getId() : realm.getId() + '/' + client.getId();
        String key = owner + '/' + invalid.attribute().key() + '=' + invalid.rejectedValue();
        if (reported.size() < MAX_REPORTED && reported.add(key)) {
            String fallback = invalid.attribute().defaultValue() == null ? "ignoring it"
                    : "using the default '" + invalid.attribute().defaultValue() + "'";
            LOG.errorf("refresh-guard: realm '%s', client '%s': %s (from the %s attribute); %s",
                    realm.getName(), client.getClientId(), invalid.problem(), invalid.source().word(), fallback);
        }
    }
}
