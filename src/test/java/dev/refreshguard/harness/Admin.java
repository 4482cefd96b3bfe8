package dev.refreshguard.harness;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import dev.refreshguard.harness.Http.Reply;

/** Keycloak's admin REST API as an admin uses it, with the bootstrap admin of the master realm. */
public final class Admin {

    private final KeycloakServer server;
    private final Http http = new Http();
    private String token;
    private Instant tokenExpires = Instant.EPOCH;

    public Admin(KeycloakServer server) {
        this.server = server;
    }

    public synchronized String token() {
        if (Instant.now().isAfter(tokenExpires)) {
            Reply reply = http.postForm(server.baseUrl() + "/realms/master/protocol/openid-connect/token",
                    Http.params("grant_type", "password", "client_id", "admin-cli",
                            "username", DistributionServer.ADMIN, "password", DistributionServer.ADMIN_PASSWORD));
            if (reply.status() != 200) {
                throw new IllegalStateException("admin login failed: " + reply);
            }
            token = reply.text("access_token");
            tokenExpires = Instant.now().plusSeconds(Math.max(5, reply.json().get("expires_in").asLong() - 15));
        }
        return token;
    }

    public Reply call(String method, String path, Object body) {
        return http.json(method, server.baseUrl() + "/admin/realms" + path, token(), body);
    }

    /** A call outside /admin/realms, e.g. /admin/serverinfo. */
    public Reply admin(String method, String path, Object body) {
        return http.json(method, server.baseUrl() + "/admin" + path, token(), body);
    }

    public Reply get(String path) {
        return call("GET", path, null);
    }

    /** Calls and insists on a 2xx. */
    public Reply ok(String method, String path, Object body) {
        Reply reply = call(method, path, body);
        if (reply.status() / 100 != 2) {
            throw new AssertionError(method + " " + path + " -> " + reply);
        }
        return reply;
    }

    public void createRealm(Map<String, Object> representation) {
        ok("POST", "", representation);
    }

    public String createClient(String realm, Map<String, Object> representation) {
        Reply reply = ok("POST", "/" + realm + "/clients", representation);
        String location = reply.headers().firstValue("Location").orElseThrow();
        return location.substring(location.lastIndexOf('/') + 1);
    }

    public String createUser(String realm, Map<String, Object> representation) {
        Reply reply = ok("POST", "/" + realm + "/users", representation);
        String location = reply.headers().firstValue("Location").orElseThrow();
        return location.substring(location.lastIndexOf('/') + 1);
    }

    public JsonNode client(String realm, String clientUuid) {
        return ok("GET", "/" + realm + "/clients/" + clientUuid, null).json();
    }

    public String clientSecret(String realm, String clientUuid) {
        return ok("GET", "/" + realm + "/clients/" + clientUuid + "/client-secret", null).text("value");
    }

    /** Sets client attributes (merged into the existing ones) through a normal client update. */
    public Reply setClientAttributes(String realm, String clientUuid, Map<String, String> attributes) {
        JsonNode client = client(realm, clientUuid);
        com.fasterxml.jackson.databind.node.ObjectNode node = (com.fasterxml.jackson.databind.node.ObjectNode) client;
        com.fasterxml.jackson.databind.node.ObjectNode attrs = node.with("attributes");
        attributes.forEach(attrs::put);
        return call("PUT", "/" + realm + "/clients/" + clientUuid, node);
    }

    public void setRealmAttributes(String realm, Map<String, String> attributes) {
        JsonNode rep = ok("GET", "/" + realm, null).json();
        com.fasterxml.jackson.databind.node.ObjectNode node = (com.fasterxml.jackson.databind.node.ObjectNode) rep;
        com.fasterxml.jackson.databind.node.ObjectNode attrs = node.with("attributes");
        attributes.forEach(attrs::put);
        ok("PUT", "/" + realm, node);
    }

    /** Events of a type from the realm's event store, newest first. */
    public List<JsonNode> events(String realm, String type) {
        JsonNode events = ok("GET", "/" + realm + "/events?type=" + type + "&max=1000", null).json();
        List<JsonNode> out = new ArrayList<>();
        events.forEach(out::add);
        return out;
    }

    public List<JsonNode> events(String realm, String type, String error) {
        return events(realm, type).stream().filter(e -> error.equals(e.path("error").asText())).toList();
    }

    public int userSessionCount(String realm, String userId) {
        return ok("GET", "/" + realm + "/users/" + userId + "/sessions", null).json().size();
    }

    public int offlineSessionCount(String realm, String userId, String clientUuid) {
        return ok("GET", "/" + realm + "/users/" + userId + "/offline-sessions/" + clientUuid, null).json().size();
    }
}
