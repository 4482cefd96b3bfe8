package dev.refreshguard.harness;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A browser without a screen for pages of the login theme: keeps every cookie it is given (Java's CookieManager drops
 * Keycloak's {@code Secure} cookies on plain http, a browser on localhost keeps them), follows no redirects, and can
 * sign in through the account console's client (authorization code with PKCE), leaving the SSO cookies.
 */
public final class CookieBrowser {

    public record Page(int status, String body, String location) {
    }

    private static final Pattern FORM = Pattern.compile("<form[^>]*action=\"([^\"]+)\"");

    private final HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final Map<String, String> cookies = new LinkedHashMap<>();

    public Page get(String url) {
        return send(HttpRequest.newBuilder(URI.create(url)).GET());
    }

    public Page post(String url, Map<String, String> form) {
        return send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(Http.form(form))));
    }

    /** The account console's authorization request and the login form, as a user signs in to their account. */
    public void signIn(KeycloakServer server, String realm, String username, String password) {
        String verifier = "v".repeat(50);
        String challenge;
        try {
            challenge = Base64.getUrlEncoder().withoutPadding().encodeToString(
                    MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        String redirect = server.baseUrl() + "/realms/" + realm + "/account/";
        Page login = get(server.baseUrl() + "/realms/" + realm + "/protocol/openid-connect/auth?client_id=account-console"
                + "&response_type=code&scope=openid&state=s1&nonce=n1&code_challenge_method=S256&code_challenge=" + challenge
                + "&redirect_uri=" + URLEncoder.encode(redirect, StandardCharsets.UTF_8));
        Matcher action = FORM.matcher(login.body());
        assertThat(action.find()).as("a login form: %s", login.body()).isTrue();
        Page signedIn = post(action.group(1).replace("&amp;", "&"), Map.of("username", username, "password", password));
        assertThat(signedIn.status()).as(signedIn.body()).isEqualTo(302);
        assertThat(signedIn.location()).startsWith(redirect);
    }

    private Page send(HttpRequest.Builder request) {
        if (!cookies.isEmpty()) {
            request.header("Cookie", String.join("; ", cookies.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList()));
        }
        try {
            HttpResponse<String> r = client.send(request.timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            for (String c : r.headers().allValues("Set-Cookie")) {
                String nv = c.split(";", 2)[0];
                int eq = nv.indexOf('=');
                String value = nv.substring(eq + 1);
                // An expired cookie (logout) is removed, as a browser does.
                if (value.isEmpty() || c.toLowerCase(java.util.Locale.ROOT).contains("max-age=0")) {
                    cookies.remove(nv.substring(0, eq));
                } else {
                    cookies.put(nv.substring(0, eq), value);
                }
            }
            return new Page(r.statusCode(), r.body(), r.headers().firstValue("Location").orElse(null));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
