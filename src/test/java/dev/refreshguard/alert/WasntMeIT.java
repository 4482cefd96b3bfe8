package dev.refreshguard.alert;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.CookieManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.ServerSetupTest;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.CookieBrowser;
import dev.refreshguard.harness.Http;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.ServerLog;
import dev.refreshguard.harness.TestRealm;

/**
 * "This wasn't me" (issue 26, point 3): the link in the user's reuse letter, followed as a mail client and a browser
 * do: the first visit asks, the confirmation ends every session of the user (online and offline), raises the event and
 * the JSON line, and the link is spent. Used twice, tampered, expired or for a deleted user: a 400 page, nothing changed.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WasntMeIT {

    @RegisterExtension
    static final GreenMailExtension SMTP = new GreenMailExtension(ServerSetupTest.SMTP.dynamicPort())
            .withPerMethodLifecycle(false);

    private static final Duration MAIL_WAIT = Duration.ofSeconds(60);
    private static final Pattern LINK = Pattern.compile("(https?://\\S+/login-actions/action-token\\?\\S+)");
    private static final Pattern CONFIRM = Pattern.compile("href=\"([^\"]*/login-actions/action-token\\?[^\"]*)\"");

    private KeycloakServer server;
    private ServerLog log;

    @BeforeAll
    void server(KeycloakServer server) {
        this.server = server;
        this.log = new ServerLog(server.logFile());
    }

    @Test
    void theLinkEndsEverySessionOnceAndTellsTheSecurityTeam() {
        TestRealm realm = mailRealm("wasnt-me", Map.of());
        Oidc spa = realm.spa();
        Oidc other = realm.oidc("other");
        Oidc api = realm.confidential("api", TestRealm.API_SECRET);
        String alice = realm.userIds.get("alice");

        Reply offline = ok(spa.password("alice", "alice", "scope", "openid offline_access"));
        Reply otherLogin = ok(other.password("alice", "alice"));
        String familyId = reuseOnSpa(realm, "alice");
        String link = linkOf(awaitUserLetter(realm, "alice@example.com"));

        int online = realm.admin.userSessionCount(realm.name, alice);
        int offlineSessions = realm.admin.offlineSessionCount(realm.name, alice, realm.clientUuids.get("spa"));
        assertThat(online).isPositive();
        assertThat(offlineSessions).isEqualTo(1);

        // The first visit only asks: a mail scanner fetching the link signs nobody out.
        CookieBrowser browser = new CookieBrowser();
        CookieBrowser.Page ask = browser.get(link);
        assertThat(ask.status()).as(ask.body()).isEqualTo(200);
        assertThat(ask.body()).contains("Sign out everywhere?");
        assertThat(realm.admin.userSessionCount(realm.name, alice)).isEqualTo(online);
        assertThat(otherIntrospection(api, otherLogin)).isTrue();

        CookieBrowser.Page done = browser.get(confirmLinkOf(ask));
        assertThat(done.status()).as(done.body()).isEqualTo(200);
        assertThat(done.body()).contains("You have been signed out everywhere")
                .doesNotContain("choose a new password");

        assertThat(realm.admin.userSessionCount(realm.name, alice)).isZero();
        assertThat(realm.admin.offlineSessionCount(realm.name, alice, realm.clientUuids.get("spa"))).isZero();
        assertThat(otherIntrospection(api, otherLogin)).isFalse();
        refused(other.refresh(otherLogin.text("refresh_token")));
        refused(spa.refresh(offline.text("refresh_token")));

        List<JsonNode> events = realm.admin.events(realm.name, "EXECUTE_ACTION_TOKEN");
        assertThat(events).hasSize(1);
        JsonNode event = events.get(0);
        assertThat(event.path("userId").asText()).isEqualTo(alice);
        assertThat(event.has("error")).isFalse();
        JsonNode details = event.path("details");
        assertThat(details.path("action").asText()).isEqualTo("refresh-guard");
        assertThat(details.path("family_id").asText()).isEqualTo(familyId);
        assertThat(details.path("sessions_revoked").asText()).isEqualTo(Integer.toString(online + offlineSessions));
        // other's online family and spa's offline one; spa's online family was revoked by the reuse already
        assertThat(details.path("families_revoked").asText()).isEqualTo("2");
        assertThat(details.path("update_password").asText()).isEqualTo("false");

        String line = log.awaitLine(MAIL_WAIT, "the wasnt-me JSON line of realm " + realm.name,
                l -> l.contains(AlertVocabulary.WASNT_ME) && l.contains(realm.name));
        JsonNode json = ServerLog.parse(line.substring(line.indexOf('{')));
        assertThat(json.path("alert").asText()).isEqualTo("refresh_guard_wasnt_me");
        assertThat(json.path("realm").asText()).isEqualTo(realm.name);
        assertThat(json.path("user_id").asText()).isEqualTo(alice);
        assertThat(json.path("family_id").asText()).isEqualTo(familyId);
        assertThat(json.path("sessions_revoked").asText()).isEqualTo(Integer.toString(online + offlineSessions));
        assertThat(line).contains(" WARN ").contains("[" + AlertChannels.LOG_CATEGORY + "]");

        // Spent: the same browser, a fresh one, after a new sign-in: a 400 page, the new session stays.
        Reply again = ok(other.password("alice", "alice"));
        for (CookieBrowser.Page used : List.<CookieBrowser.Page>of(browser.get(link), new CookieBrowser().get(link), browser.get(confirmLinkOf(ask)))) {
            assertThat(used.status()).as(used.body()).isEqualTo(400);
            assertThat(used.body()).contains("This link was already used");
        }
        assertThat(realm.admin.userSessionCount(realm.name, alice)).isEqualTo(1);
        assertThat(other.refresh(again.text("refresh_token")).status()).isEqualTo(200);
        assertThat(realm.admin.events(realm.name, "EXECUTE_ACTION_TOKEN").stream()
                .filter(e -> !e.has("error"))).hasSize(1);
    }

    @Test
    void tamperedExpiredOrForADeletedUserTheLinkGetsAPageAndChangesNothing() {
        TestRealm realm = mailRealm("wasnt-me-bad", Map.of());
        String alice = realm.userIds.get("alice");
        reuseOnSpa(realm, "alice");
        String link = linkOf(awaitUserLetter(realm, "alice@example.com"));
        ok(realm.oidc("other").password("alice", "alice"));
        int online = realm.admin.userSessionCount(realm.name, alice);

        // tampered: the signature's last characters changed
        String key = key(link);
        String forged = link.replace(key, key.substring(0, key.length() - 4) + (key.endsWith("AAAA") ? "BBBB" : "AAAA"));
        CookieBrowser.Page tampered = new CookieBrowser().get(forged);
        assertThat(tampered.status()).as(tampered.body()).isEqualTo(400);
        // tampered: the family claim swapped, signature kept
        CookieBrowser.Page swapped = new CookieBrowser().get(link.replace(key, withClaim(key, "rg_fid", UUID.randomUUID().toString())));
        assertThat(swapped.status()).as(swapped.body()).isEqualTo(400);
        assertThat(realm.admin.userSessionCount(realm.name, alice)).isEqualTo(online);

        // deleted user
        reuseOnSpa(realm, "bob");
        String bobLink = linkOf(awaitUserLetter(realm, "bob@example.com"));
        realm.admin.ok("DELETE", "/" + realm.name + "/users/" + realm.userIds.get("bob"), null);
        CookieBrowser.Page deleted = new CookieBrowser().get(bobLink);
        assertThat(deleted.status()).as(deleted.body()).isEqualTo(400);

        // expired: a realm whose links live 2 seconds
        TestRealm shortLived = mailRealm("wasnt-me-exp", Map.of("refresh.guard.wasnt.me.seconds", "2"));
        String carol = shortLived.addUser("carol");
        reuseOnSpa(shortLived, "carol");
        String carolLink = linkOf(awaitUserLetter(shortLived, "carol@example.com"));
        ok(shortLived.oidc("other").password("carol", "carol"));
        int carolSessions = shortLived.admin.userSessionCount(shortLived.name, carol);
        long exp = Http.JSON.valueToTree(claims(key(carolLink))).path("exp").asLong();
        assertThat(exp).isPositive();
        Await.pastEpochSecond(exp + 1);
        CookieBrowser.Page expired = new CookieBrowser().get(carolLink);
        assertThat(expired.status()).as(expired.body()).isEqualTo(400);
        assertThat(shortLived.admin.userSessionCount(shortLived.name, carol)).isEqualTo(carolSessions);

        for (TestRealm r : List.of(realm, shortLived)) {
            assertThat(r.admin.events(r.name, "EXECUTE_ACTION_TOKEN").stream().filter(e -> !e.has("error")))
                    .as("successful wasnt-me events in %s", r.name).isEmpty();
        }
        assertThat(log.lines(l -> l.contains(AlertVocabulary.WASNT_ME) && (l.contains(realm.name) || l.contains(shortLived.name))))
                .isEmpty();
    }

    @Test
    void theLetterAndThePagesSpeakGermanAndANewPasswordCanBeRequired() {
        TestRealm realm = mailRealm("wasnt-me-de", Map.of("refresh.guard.wasnt.me.update.password", "true"));
        realm.update(r -> {
            r.put("internationalizationEnabled", true);
            r.putArray("supportedLocales").add("en").add("de");
            r.put("defaultLocale", "de");
        });
        String alice = realm.userIds.get("alice");
        String familyId = reuseOnSpa(realm, "alice");
        ReceivedLetter letter = awaitUserLetter(realm, "alice@example.com");
        assertThat(letter.text()).contains("Das war ich nicht: ").contains("meldet Sie überall ab");
        assertThat(letter.html()).contains(">Das war ich nicht</a>");

        CookieBrowser browser = new CookieBrowser();
        CookieBrowser.Page ask = browser.get(linkOf(letter));
        assertThat(ask.status()).as(ask.body()).isEqualTo(200);
        assertThat(ask.body()).contains("Überall abmelden?");
        CookieBrowser.Page done = browser.get(confirmLinkOf(ask));
        assertThat(done.status()).as(done.body()).isEqualTo(200);
        assertThat(done.body()).contains("Sie wurden überall abgemeldet")
                .contains("Bei der nächsten Anmeldung wählen Sie ein neues Passwort.");

        JsonNode user = realm.admin.ok("GET", "/" + realm.name + "/users/" + alice, null).json();
        assertThat(user.path("requiredActions").toString()).contains("UPDATE_PASSWORD");
        JsonNode event = realm.admin.events(realm.name, "EXECUTE_ACTION_TOKEN").get(0);
        assertThat(event.path("details").path("update_password").asText()).isEqualTo("true");
        assertThat(event.path("details").path("family_id").asText()).isEqualTo(familyId);
        CookieBrowser.Page used = new CookieBrowser().get(linkOf(letter));
        assertThat(used.status()).isEqualTo(400);
        assertThat(used.body()).contains("Dieser Link wurde bereits verwendet.");
    }

    @Test
    void bothRealmSettingsAreValidatedLikeEveryOther() {
        TestRealm realm = TestRealm.guarded(server, "wasnt-me-policy", Map.of("refresh.guard.wasnt.me.seconds", "0",
                "refresh.guard.wasnt.me.update.password", "true"));
        // realm only: refused on a client with 400, naming the attribute and what it accepts
        Reply onClient = realm.admin.setClientAttributes(realm.name, realm.clientUuids.get("spa"),
                Map.of("refresh.guard.wasnt.me.seconds", "600"));
        assertThat(onClient.status()).as("%s", onClient).isEqualTo(400);
        assertThat(onClient.body()).contains("refresh.guard.wasnt.me.seconds accepts an integer from 1 to 604800")
                .contains("it cannot be set on a client, set it on the realm");
        // a refused value stored on the realm: the default applies, the policy endpoint says why
        JsonNode attributes = realm.admin.ok("GET", "/" + realm.name + "/refresh-guard/policy?client_id=spa", null).json()
                .path("attributes");
        JsonNode seconds = attributes.path("refresh.guard.wasnt.me.seconds");
        assertThat(seconds.path("value").asText()).isEqualTo("43200");
        assertThat(seconds.path("valid").asBoolean()).isFalse();
        assertThat(seconds.path("rejectedValue").asText()).isEqualTo("0");
        JsonNode password = attributes.path("refresh.guard.wasnt.me.update.password");
        assertThat(password.path("value").asText() + " " + password.path("source").asText() + " " + password.path("valid").asBoolean())
                .isEqualTo("true realm true");
    }

    // ---------------------------------------------------------------------------------------------------------

    private static Reply ok(Reply reply) {
        assertThat(reply.status()).as("%s", reply).isEqualTo(200);
        return reply;
    }

    private static void refused(Reply reply) {
        assertThat(reply.status() + " " + reply.text("error")).as("%s", reply).isEqualTo("400 invalid_grant");
    }

    private static boolean otherIntrospection(Oidc api, Reply login) {
        Reply r = api.introspect(login.text("access_token"));
        assertThat(r.status()).isEqualTo(200);
        return r.json().path("active").asBoolean();
    }

    /** A refresh and a reuse on spa (revoke-family): the reuse letter goes to the user. Returns the family id. */
    private String reuseOnSpa(TestRealm realm, String username) {
        Oidc spa = realm.spa();
        String first = ok(spa.password(username, username)).text("refresh_token");
        ok(spa.refresh(first));
        Oidc.expectReuseDetected(spa.refresh(first));
        String familyId = Oidc.claims(first).get("rg_fid").asText();
        log.awaitAlertOfFamily(familyId);
        return familyId;
    }

    private static ReceivedLetter awaitUserLetter(TestRealm realm, String address) {
        return Await.value(MAIL_WAIT, "the reuse letter to " + address, () -> ReceivedLetter.of(SMTP.getReceivedMessages())
                .stream().filter(l -> l.isTo(address) && l.subject() != null && l.subject().contains(realm.name))
                .findFirst().orElse(null));
    }

    private static String linkOf(ReceivedLetter letter) {
        Matcher m = LINK.matcher(letter.text());
        assertThat(m.find()).as("a wasnt-me link in %s", letter.text()).isTrue();
        return m.group(1);
    }

    private static String confirmLinkOf(CookieBrowser.Page page) {
        Matcher m = CONFIRM.matcher(page.body());
        assertThat(m.find()).as("a confirmation link in %s", page.body()).isTrue();
        return m.group(1).replace("&amp;", "&");
    }

    private static String key(String link) {
        Matcher m = Pattern.compile("[?&]key=([^&]+)").matcher(link);
        assertThat(m.find()).isTrue();
        return m.group(1);
    }

    private static Map<?, ?> claims(String jwt) {
        try {
            return Http.JSON.readValue(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]), Map.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The same header and signature around a payload with one claim changed. */
    private static String withClaim(String jwt, String claim, String value) {
        String[] parts = jwt.split("\\.");
        ObjectNode payload = Http.JSON.valueToTree(claims(jwt));
        payload.put(claim, value);
        String encoded = Base64.getUrlEncoder().withoutPadding().encodeToString(payload.toString().getBytes(StandardCharsets.UTF_8));
        return parts[0] + "." + encoded + "." + parts[2];
    }

    private TestRealm mailRealm(String prefix, Map<String, String> extra) {
        Map<String, String> attributes = new java.util.HashMap<>(extra);
        attributes.put("refresh.guard.notify.user", "true");
        TestRealm realm = TestRealm.guarded(server, prefix, attributes);
        realm.sendMailThrough(SMTP.getSmtp().getPort());
        return realm;
    }
}
