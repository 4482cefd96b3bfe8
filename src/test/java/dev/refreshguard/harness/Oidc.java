package dev.refreshguard.harness;

import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import dev.refreshguard.harness.Http.Reply;

/** One OAuth client of one realm, speaking to the token, userinfo, introspection and revocation endpoints. */
public final class Oidc {

    private static final Pattern FORM_ACTION = Pattern.compile("action=\"([^\"]+)\"");

    private final Http http = new Http();
    private final String realmUrl;
    private final String clientId;
    private final String secret;

    public Oidc(KeycloakServer server, String realm, String clientId, String secret) {
        this.realmUrl = server.baseUrl() + "/realms/" + realm;
        this.clientId = clientId;
        this.secret = secret;
    }

    public String clientId() {
        return clientId;
    }

    public String tokenUrl() {
        return realmUrl + "/protocol/openid-connect/token";
    }

    public Reply password(String username, String password, String... extra) {
        Map<String, String> form = credentials("grant_type", "password", "username", username, "password", password,
                "scope", "openid");
        form.putAll(Http.params(extra));
        return http.postForm(tokenUrl(), form);
    }

    public Reply refresh(String refreshToken) {
        return http.postForm(tokenUrl(), credentials("grant_type", "refresh_token", "refresh_token", refreshToken));
    }

    /** A password login and one refresh: the login's refresh token (now rotated away) and the refresh's answer. */
    public record Rotated(String first, Reply successor) {
    }

    /** {@link #password} then {@link #refresh} of its refresh token, each of which must succeed. */
    public Rotated loginAndRefresh(String username, String password) {
        Reply login = password(username, password);
        if (login.status() != 200) {
            throw new AssertionError("login: " + login);
        }
        String first = login.text("refresh_token");
        Reply rotated = refresh(first);
        if (rotated.status() != 200) {
            throw new AssertionError("refresh: " + rotated);
        }
        return new Rotated(first, rotated);
    }

    /**
     * {@link #loginAndRefresh}, then the rotated-away token presented again at once: inside a grace window that is a
     * replay, answered with the very same successor.
     */
    public void expectGraceReplay(String username, String password) {
        Rotated rotated = loginAndRefresh(username, password);
        Reply replay = refresh(rotated.first());
        org.assertj.core.api.Assertions.assertThat(replay.status()).as("replay inside the grace window: %s", replay).isEqualTo(200);
        org.assertj.core.api.Assertions.assertThat(replay.text("refresh_token")).as("the successor the replay gets")
                .isEqualTo(rotated.successor().text("refresh_token"));
    }

    // --- the exact refusals ------------------------------------------------------------------------------------
    // refresh-guard's error_description for each refusal it adds (RefreshErrors), and Keycloak's own where a test must
    // tell them apart: a check for "contains reuse" cannot, as three of these contain that word.

    /** The presented token was already rotated away: reuse detected now (event error refresh_token_reused). */
    public static final String REUSE_DETECTED = "Refresh token reuse detected: this token was already used, so its family is revoked";
    /** A token of a family that an earlier reuse revoked (event error refresh_token_family_revoked). */
    public static final String FAMILY_REVOKED_AFTER_REUSE = "Refresh token family revoked after token reuse was detected";
    /** A token of a family revoked otherwise: an admin, the revocation endpoint, a session-wide action. */
    public static final String FAMILY_REVOKED = "Refresh token family revoked";
    public static final String FAMILY_UNKNOWN = "Refresh token family is not known to this server";
    public static final String FAMILY_EXPIRED = "Refresh token expired: past the idle or maximum lifetime of its family";
    public static final String STALE = "Stale refresh token: it was replaced by a newer one before refresh-guard protected the realm";
    /** Keycloak's own Revoke Refresh Token, in a realm refresh-guard does not protect. */
    public static final String KEYCLOAK_REUSE_EXCEEDED = "Maximum allowed refresh token reuse exceeded";

    /** 400 invalid_grant with exactly {@link #REUSE_DETECTED}. */
    public static Reply expectReuseDetected(Reply reply) {
        return expectInvalidGrant(reply, REUSE_DETECTED);
    }

    /** 400 invalid_grant with exactly {@link #FAMILY_REVOKED_AFTER_REUSE}. */
    public static Reply expectFamilyRevokedAfterReuse(Reply reply) {
        return expectInvalidGrant(reply, FAMILY_REVOKED_AFTER_REUSE);
    }

    /** 400 invalid_grant with exactly {@link #FAMILY_REVOKED}: revoked, but not by a reuse. */
    public static Reply expectFamilyRevoked(Reply reply) {
        return expectInvalidGrant(reply, FAMILY_REVOKED);
    }

    public static Reply expectFamilyUnknown(Reply reply) {
        return expectInvalidGrant(reply, FAMILY_UNKNOWN);
    }

    public static Reply expectFamilyExpired(Reply reply) {
        return expectInvalidGrant(reply, FAMILY_EXPIRED);
    }

    public static Reply expectStale(Reply reply) {
        return expectInvalidGrant(reply, STALE);
    }

    /** Keycloak's own refusal of a reused token (realm setting Revoke Refresh Token), exactly. */
    public static Reply expectKeycloakReuseExceeded(Reply reply) {
        return expectInvalidGrant(reply, KEYCLOAK_REUSE_EXCEEDED);
    }

    /**
     * The losers of a race of one rotated-away token: the first is reuse detected, which revokes the family, so every
     * later one presents a token of a family revoked after reuse.
     */
    public static void expectOneReuseThenRevoked(List<Reply> losers) {
        List<Reply> detected = losers.stream().filter(r -> REUSE_DETECTED.equals(r.text("error_description"))).toList();
        org.assertj.core.api.Assertions.assertThat(detected).as("losers told reuse detected, of %s", losers).hasSize(1);
        losers.stream().filter(r -> r != detected.get(0)).forEach(Oidc::expectFamilyRevokedAfterReuse);
        expectReuseDetected(detected.get(0));
    }

    /** 400, {@code invalid_grant} and exactly this {@code error_description}; one comparison, so a failure shows all three. */
    public static Reply expectInvalidGrant(Reply reply, String description) {
        org.assertj.core.api.Assertions.assertThat(reply.status() + " " + reply.text("error") + " " + reply.text("error_description"))
                .as("refusal: %s", reply).isEqualTo("400 invalid_grant " + description);
        return reply;
    }

    public Reply refresh(String refreshToken, Map<String, String> headers) {
        return http.postForm(tokenUrl(), credentials("grant_type", "refresh_token", "refresh_token", refreshToken), headers);
    }

    public Reply userinfo(String accessToken) {
        return http.get(realmUrl + "/protocol/openid-connect/userinfo", accessToken);
    }

    /** RFC 7662, authenticated as this (confidential) client. */
    public Reply introspect(String token) {
        return http.postForm(realmUrl + "/protocol/openid-connect/token/introspect", credentials("token", token));
    }

    /** RFC 7009. */
    public Reply revoke(String token, String hint) {
        return http.postForm(realmUrl + "/protocol/openid-connect/revoke", credentials("token", token, "token_type_hint", hint));
    }

    public Reply exchange(String subjectToken, String... extra) {
        Map<String, String> form = credentials("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange",
                "subject_token", subjectToken, "subject_token_type", "urn:ietf:params:oauth:token-type:access_token");
        form.putAll(Http.params(extra));
        return http.postForm(tokenUrl(), form);
    }

    /** The authorization-code flow as a browser runs it: login form, credentials, redirect with the code, code for tokens. */
    public Reply authorizationCode(String username, String password, String redirectUri) {
        return authorizationCode(new Browser(), username, password, redirectUri);
    }

    /**
     * The authorization-code flow in a given browser: where the browser already has an SSO session, Keycloak
     * redirects with a code at once and the new client joins that user session.
     */
    public Reply authorizationCode(Browser browser, String username, String password, String redirectUri) {
        return authorizationCode(browser, username, password, redirectUri, "openid");
    }

    /** The same with a scope of one's own, e.g. {@code openid offline_access} for an offline token of the same login. */
    public Reply authorizationCode(Browser browser, String username, String password, String redirectUri, String scope) {
        String authUrl = realmUrl + "/protocol/openid-connect/auth?" + Http.form(Http.params("client_id", clientId,
                "response_type", "code", "scope", scope, "redirect_uri", redirectUri, "state", "s1", "nonce", "n1"));
        Reply page = browser.send(http, HttpRequest.newBuilder(URI.create(authUrl)).GET());
        Reply redirect = page;
        if (page.status() == 200) {
            Matcher action = FORM_ACTION.matcher(page.body());
            if (!action.find()) {
                throw new AssertionError("no login form: " + page);
            }
            String postUrl = action.group(1).replace("&amp;", "&");
            redirect = browser.send(http, HttpRequest.newBuilder(URI.create(postUrl))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(Http.form(Http.params("username", username, "password", password)))));
        }
        Reply answer = redirect;
        String location = answer.headers().firstValue("Location").orElseThrow(() -> new AssertionError("no redirect: " + answer));
        String code = query(URI.create(location)).get("code");
        if (code == null) {
            throw new AssertionError("no code in " + location);
        }
        return http.postForm(tokenUrl(), credentials("grant_type", "authorization_code", "code", code, "redirect_uri", redirectUri));
    }

    private Map<String, String> credentials(String... keyValues) {
        Map<String, String> form = new LinkedHashMap<>(Http.params(keyValues));
        form.put("client_id", clientId);
        if (secret != null) {
            form.put("client_secret", secret);
        }
        return form;
    }

    private static Map<String, String> query(URI uri) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String pair : uri.getRawQuery().split("&")) {
            int eq = pair.indexOf('=');
            out.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8), URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return out;
    }

    /** The payload of a JWT, decoded without verification: what a test wants to look at. */
    public static JsonNode claims(String jwt) {
        try {
            String[] parts = jwt.split("\\.");
            return Http.JSON.readTree(Base64.getUrlDecoder().decode(parts[1]));
        } catch (Exception e) {
            throw new AssertionError("not a JWT: " + jwt, e);
        }
    }

    /** Cookies of one browser: its SSO session. */
    public static final class Browser {
        private final Map<String, String> cookies = new LinkedHashMap<>();
        /** The address of the page last loaded by {@link #get} or {@link #submit}: relative form actions resolve against it. */
        private URI page;

        /** GET with this browser's cookies, following up to 10 redirects. */
        public Reply get(Http http, String url) {
            URI at = URI.create(url);
            Reply reply = send(http, HttpRequest.newBuilder(at).GET());
            for (int i = 0; i < 10 && reply.status() / 100 == 3; i++) {
                at = at.resolve(reply.headers().firstValue("Location").orElseThrow());
                reply = send(http, HttpRequest.newBuilder(at).GET());
            }
            page = at;
            return reply;
        }

        /**
         * Submits the first form of {@code reply} — the page this browser last loaded — with these fields, then follows
         * redirects. A relative {@code action} is resolved against that page's address.
         */
        public Reply submit(Http http, Reply reply, Map<String, String> fields) {
            Matcher action = FORM_ACTION.matcher(reply.body());
            if (!action.find()) {
                throw new AssertionError("no form: " + reply);
            }
            URI post = page == null ? URI.create(action.group(1).replace("&amp;", "&"))
                    : page.resolve(action.group(1).replace("&amp;", "&"));
            Reply answer = send(http, HttpRequest.newBuilder(post)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(Http.form(fields))));
            page = post;
            if (answer.status() / 100 == 3) {
                return get(http, post.resolve(answer.headers().firstValue("Location").orElseThrow()).toString());
            }
            return answer;
        }

        Reply send(Http http, HttpRequest.Builder request) {
            if (!cookies.isEmpty()) {
                request.header("Cookie", String.join("; ", cookies.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList()));
            }
            Reply reply = http.send(request.timeout(Duration.ofSeconds(30)).build());
            List<String> setCookies = reply.headers().allValues("Set-Cookie");
            for (String c : setCookies) {
                String nv = c.split(";", 2)[0];
                int eq = nv.indexOf('=');
                cookies.put(nv.substring(0, eq), nv.substring(eq + 1));
            }
            return reply;
        }
    }
}
