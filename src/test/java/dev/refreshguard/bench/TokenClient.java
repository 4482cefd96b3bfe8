package dev.refreshguard.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;

import dev.refreshguard.harness.Http;
import dev.refreshguard.harness.KeycloakServer;

/**
 * One OAuth client application as the benchmark drives it: its own HTTP/1.1 keep-alive connection to one realm's
 * token endpoint, timing each request from send to the last byte of the answer (parsing is not timed).
 */
final class TokenClient {

    /** One timed answer. */
    record Answer(int status, long nanos, String body) {
        JsonNode json() {
            try {
                return Http.JSON.readTree(body);
            } catch (IOException e) {
                throw new IllegalStateException("token endpoint answered no JSON: " + body, e);
            }
        }

        String refreshToken() {
            JsonNode token = status == 200 ? json().get("refresh_token") : null;
            return token == null ? null : token.asText();
        }
    }

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final URI tokenUrl;
    private final String clientId;

    TokenClient(KeycloakServer server, String realm, String clientId) {
        this.tokenUrl = URI.create(server.baseUrl() + "/realms/" + realm + "/protocol/openid-connect/token");
        this.clientId = clientId;
    }

    Answer password(String username, String password) {
        return post(Http.params("grant_type", "password", "client_id", clientId, "username", username,
                "password", password, "scope", "openid"));
    }

    Answer refresh(String refreshToken) {
        return post(Http.params("grant_type", "refresh_token", "client_id", clientId, "refresh_token", refreshToken));
    }

    private Answer post(java.util.Map<String, String> form) {
        HttpRequest request = HttpRequest.newBuilder(tokenUrl).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(Http.form(form))).build();
        long start = System.nanoTime();
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            return new Answer(response.statusCode(), System.nanoTime() - start, response.body());
        } catch (IOException e) {
            throw new IllegalStateException("request to " + tokenUrl + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
