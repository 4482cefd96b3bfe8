package dev.refreshguard.harness;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A small realm built through the admin API: a public client {@code spa}, a second public client {@code other},
 * a confidential client {@code api} (also the introspecting resource server), users alice and bob.
 */
public final class TestRealm {

    public static final String REDIRECT = "http://localhost/cb";
    public static final String API_SECRET = "api-secret-0123456789";
    /** Saved event types: Keycloak's usual ones plus the refresh and exchange events the tests read. */
    public static final List<String> SAVED_EVENTS = List.of("LOGIN", "LOGIN_ERROR", "CODE_TO_TOKEN", "CODE_TO_TOKEN_ERROR",
            "REFRESH_TOKEN", "REFRESH_TOKEN_ERROR", "TOKEN_EXCHANGE", "TOKEN_EXCHANGE_ERROR", "REVOKE_GRANT",
            "REVOKE_GRANT_ERROR", "LOGOUT", "LOGOUT_ERROR", "INTROSPECT_TOKEN", "INTROSPECT_TOKEN_ERROR");

    public final KeycloakServer server;
    public final Admin admin;
    public final String name;
    public final Map<String, String> clientUuids = new HashMap<>();
    public final Map<String, String> userIds = new HashMap<>();

    private TestRealm(KeycloakServer server, Admin admin, String name) {
        this.server = server;
        this.admin = admin;
        this.name = name;
    }

    /** A protected realm (event listener refresh-guard) with the given realm attributes. */
    public static TestRealm guarded(KeycloakServer server, String prefix, Map<String, String> realmAttributes) {
        return create(server, prefix, true, realmAttributes);
    }

    /** A realm exactly as stock Keycloak has it: no refresh-guard listener. */
    public static TestRealm stock(KeycloakServer server, String prefix) {
        return create(server, prefix, false, Map.of());
    }

    public static TestRealm create(KeycloakServer server, String prefix, boolean guarded, Map<String, String> realmAttributes) {
        Admin admin = new Admin(server);
        String name = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
        Map<String, Object> realm = new LinkedHashMap<>();
        realm.put("realm", name);
        realm.put("enabled", true);
        realm.put("eventsEnabled", true);
        realm.put("enabledEventTypes", SAVED_EVENTS);
        realm.put("eventsListeners", guarded ? List.of("jboss-logging", "refresh-guard") : List.of("jboss-logging"));
        realm.put("attributes", realmAttributes);
        admin.createRealm(realm);
        TestRealm t = new TestRealm(server, admin, name);
        t.addPublicClient("spa");
        t.addPublicClient("other");
        t.addConfidentialClient("api", API_SECRET, Map.of());
        // Keycloak 26.7 introspects a token as active only for a client in its audience: let api introspect all three.
        for (String client : List.of("spa", "other", "api")) {
            t.addAudience(client, "api");
        }
        t.addUser("alice");
        t.addUser("bob");
        return t;
    }

    public String addPublicClient(String clientId) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("clientId", clientId);
        c.put("publicClient", true);
        c.put("directAccessGrantsEnabled", true);
        c.put("standardFlowEnabled", true);
        c.put("redirectUris", List.of(REDIRECT));
        String uuid = admin.createClient(name, c);
        clientUuids.put(clientId, uuid);
        return uuid;
    }

    public String addConfidentialClient(String clientId, String secret, Map<String, Object> extra) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("clientId", clientId);
        c.put("publicClient", false);
        c.put("secret", secret);
        c.put("directAccessGrantsEnabled", true);
        c.put("standardFlowEnabled", true);
        c.put("redirectUris", List.of(REDIRECT));
        c.putAll(extra);
        String uuid = admin.createClient(name, c);
        clientUuids.put(clientId, uuid);
        return uuid;
    }

    public String addUser(String username) {
        Map<String, Object> u = new LinkedHashMap<>();
        u.put("username", username);
        u.put("enabled", true);
        u.put("email", username + "@example.com");
        u.put("emailVerified", true);
        u.put("firstName", username);
        u.put("lastName", "Test");
        u.put("credentials", List.of(Map.of("type", "password", "value", username, "temporary", false)));
        String id = admin.createUser(name, u);
        userIds.put(username, id);
        return id;
    }

    /**
     * Puts {@code audience} (a client id) into the access tokens of {@code clientId}, so that client may introspect
     * them: Keycloak 26.7 answers {@code active: false} to a client that is not in the token's audience.
     */
    /** Adds an audience mapper; adding the same audience twice is a no-op. */
    public void addAudience(String clientId, String audience) {
        Http.Reply reply = admin.call("POST", "/" + name + "/clients/" + clientUuids.get(clientId) + "/protocol-mappers/models", Map.of(
                "name", "audience-" + audience, "protocol", "openid-connect", "protocolMapper", "oidc-audience-mapper",
                "config", Map.of("included.client.audience", audience, "access.token.claim", "true",
                        "introspection.token.claim", "true")));
        if (reply.status() / 100 != 2 && reply.status() != 409) {
            throw new AssertionError("audience mapper refused: " + reply);
        }
    }

    /** Sets refresh-guard (or any) attributes on a client; fails the test unless the admin API accepts them. */
    public void clientAttributes(String clientId, Map<String, String> attributes) {
        Http.Reply reply = admin.setClientAttributes(name, clientUuids.get(clientId), attributes);
        if (reply.status() / 100 != 2) {
            throw new AssertionError("client update refused: " + reply);
        }
    }

    /** Changes the realm's representation as an admin does in the console: read it, change it, save it. */
    public void update(Consumer<ObjectNode> change) {
        ObjectNode rep = (ObjectNode) admin.ok("GET", "/" + name, null).json();
        change.accept(rep);
        admin.ok("PUT", "/" + name, rep);
    }

    /** The realm's mail goes to the test's SMTP server on this machine, from {@code keycloak@example.org}. */
    public void sendMailThrough(int smtpPort) {
        sendMailThrough(smtpPort, Map.of());
    }

    /** As {@link #sendMailThrough(int)}, with more of the realm's {@code smtpServer} settings (a from, a reply-to...). */
    public void sendMailThrough(int smtpPort, Map<String, String> smtpSettings) {
        update(rep -> {
            ObjectNode smtp = rep.putObject("smtpServer");
            smtp.put("host", "127.0.0.1");
            smtp.put("port", Integer.toString(smtpPort));
            smtp.put("from", "keycloak@example.org");
            smtpSettings.forEach(smtp::put);
        });
    }

    public Oidc spa() {
        return oidc("spa");
    }

    public Oidc oidc(String clientId) {
        return new Oidc(server, name, clientId, clientId.equals("api") ? API_SECRET : null);
    }

    public Oidc confidential(String clientId, String secret) {
        return new Oidc(server, name, clientId, secret);
    }
}
