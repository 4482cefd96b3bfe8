package dev.refreshguard.alert;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.ServerSetupTest;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.ServerLog;
import dev.refreshguard.harness.TestRealm;
import dev.refreshguard.harness.TokenLeaks;

/**
 * Reuse alerts by email through the realm's SMTP settings, received by a real SMTP server (GreenMail) on a free
 * port; a dead SMTP server neither delays nor fails the token response; no channel ever carries a token.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EmailAlertIT {

    @RegisterExtension
    static final GreenMailExtension SMTP = new GreenMailExtension(ServerSetupTest.SMTP.dynamicPort())
            .withPerMethodLifecycle(false);

    /** The sender TestRealm.sendMailThrough sets. */
    private static final String FROM = "keycloak@example.org";
    /** Markup and an ampersand: escaped in the HTML letter, kept as is in the text letter. */
    private static final String USER_AGENT = "RG-EmailAlertIT/2.0 (<b>bold</b> & co)";
    private static final Duration MAIL_WAIT = Duration.ofSeconds(60);

    private KeycloakServer server;
    private ServerLog log;
    private Blackhole blackhole;

    @BeforeAll
    void server(KeycloakServer server) {
        this.server = server;
        this.log = new ServerLog(server.logFile());
    }

    @AfterAll
    void closeBlackhole() {
        if (blackhole != null) {
            blackhole.close();
        }
    }

    @Test
    void theVerifiedUserAndTheAlertAddressEachGetOneLetter() {
        String team = teamAddress();
        TestRealm realm = mailRealm("mail-en", team, SMTP.getSmtp().getPort(), Map.of());
        unverify(realm, "bob");

        Reuse alice = reuse(realm, "alice");
        List<ReceivedLetter> aliceLetters = awaitLetters(realm, 2);
        ReceivedLetter toUser = only(aliceLetters, "alice@example.com");
        ReceivedLetter toTeam = only(aliceLetters, team);

        assertThat(toUser.from()).isEqualTo(FROM);
        assertThat(toUser.subject()).isEqualTo(realm.name + ": a sign-in token of your account was used twice");
        assertThat(toUser.text())
                .contains("Someone presented a refresh token of your " + realm.name + " account that had already been used.")
                .contains("someone else's hands") // MessageFormat's '' became one apostrophe
                .contains("When: " + alice.day)
                .contains("Application (client): spa")
                .contains("IP address that presented the used token: " + alice.ip)
                .contains("IP address that used it first: " + alice.ip)
                .contains("Browser or app (user agent): " + USER_AGENT)
                .contains("What was revoked: this sign-in of the application")
                .contains("What you should do: sign in again.")
                .doesNotContain(alice.familyId);
        assertThat(toUser.html())
                .contains("<html lang=\"en\">")
                .contains("RG-EmailAlertIT/2.0 (&lt;b&gt;bold&lt;/b&gt; &amp; co)")
                .doesNotContain("<b>bold</b>");

        assertThat(toTeam.subject()).isEqualTo("[" + realm.name + "] Refresh token reuse: client spa, user alice");
        assertThat(toTeam.text())
                .contains("refresh-guard detected the reuse of a refresh token in realm " + realm.name)
                .contains("Realm: " + realm.name)
                .contains("User: alice (" + realm.userIds.get("alice") + ")")
                .contains("Session: " + alice.sessionId)
                .contains("Token family: " + alice.familyId)
                .contains("Generation presented / latest: 0 / 1")
                .contains("Action: revoke-family")
                .contains("Sessions ended: 1")
                .contains("What to do: check whether both IP addresses");

        // bob's email is not verified: the alert address hears of his reuse, bob does not
        Reuse bob = reuse(realm, "bob");
        Await.until(MAIL_WAIT, "the team letter about bob", () -> letters(realm).stream()
                .anyMatch(l -> l.isTo(team) && l.text().contains(bob.familyId)));
        List<ReceivedLetter> all = Await.exactly(3, MAIL_WAIT, "letters about realm " + realm.name, () -> letters(realm));
        assertThat(all).noneMatch(l -> l.isTo("bob@example.com"));
        assertThat(all.stream().filter(l -> l.isTo("alice@example.com"))).hasSize(1);
    }

    @Test
    void lettersSpeakTheUsersLanguageAndTheAlertAddressGetsTheRealmDefault() {
        String team = teamAddress();
        TestRealm realm = mailRealm("mail-de", team, SMTP.getSmtp().getPort(), Map.of());
        realm.update(r -> {
            r.put("internationalizationEnabled", true);
            r.putArray("supportedLocales").add("en").add("de");
            r.put("defaultLocale", "de");
        });
        setLocale(realm, "bob", "en");

        Reuse alice = reuse(realm, "alice");
        List<ReceivedLetter> letters = awaitLetters(realm, 2);
        ReceivedLetter toAlice = only(letters, "alice@example.com");
        ReceivedLetter toTeam = only(letters, team);
        assertThat(toAlice.subject()).isEqualTo(realm.name + ": Ein Anmelde-Token Ihres Kontos wurde doppelt verwendet");
        assertThat(toAlice.text())
                .contains("Jemand hat ein Refresh-Token Ihres Kontos bei " + realm.name + " vorgelegt")
                .contains("Anwendung (Client): spa")
                .contains("Browser oder App (User-Agent): " + USER_AGENT)
                .contains("Widerrufen wurde: diese Anmeldung der Anwendung")
                .contains("Was Sie tun sollten: Melden Sie sich erneut an.");
        assertThat(toAlice.html()).contains("<html lang=\"de\">");
        assertThat(toTeam.subject()).isEqualTo("[" + realm.name + "] Wiederverwendung eines Refresh-Tokens: Client spa, Benutzer alice");
        assertThat(toTeam.text())
                .contains("Token-Familie: " + alice.familyId)
                .contains("Maßnahme: revoke-family")
                .contains("Was zu tun ist:");

        // bob chose English: his letter is English, the alert address's stays German
        Reuse bob = reuse(realm, "bob");
        Await.exactly(4, MAIL_WAIT, "letters about realm " + realm.name + " (both about bob the last two)", () -> letters(realm));
        ReceivedLetter toBob = only(letters(realm), "bob@example.com");
        assertThat(toBob.subject()).isEqualTo(realm.name + ": a sign-in token of your account was used twice");
        assertThat(toBob.text()).contains("What you should do: sign in again.");
        assertThat(letters(realm).stream().filter(l -> l.isTo(team) && l.text().contains(bob.familyId)).findFirst().orElseThrow()
                .subject()).isEqualTo("[" + realm.name + "] Wiederverwendung eines Refresh-Tokens: Client spa, Benutzer bob");
    }

    @Test
    void aDeadSmtpServerNeitherDelaysNorFailsTheTokenResponse() {
        blackhole = new Blackhole();
        // 10 s SMTP timeouts: a send in the request would hold the response at least that long
        TestRealm realm = mailRealm("mail-dead", teamAddress(), blackhole.port(),
                Map.of("timeout", "10000", "connectionTimeout", "10000", "writeTimeout", "10000"));
        realm.clientAttributes("other", Map.of("refresh.guard.reuse.action", "alert-only"));

        Oidc spa = realm.spa();
        String first = spa.password("alice", "alice").text("refresh_token");
        String familyId = Oidc.claims(first).get("rg_fid").asText();
        assertThat(spa.refresh(first).status()).isEqualTo(200);
        long start = System.nanoTime();
        Reply reuse = spa.refresh(first, Map.of("User-Agent", USER_AGENT));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        Oidc.expectReuseDetected(reuse);
        assertThat(took).as("reuse response time with a dead SMTP server").isLessThan(Duration.ofSeconds(3));

        Oidc other = realm.oidc("other");
        String o0 = other.password("bob", "bob").text("refresh_token");
        assertThat(other.refresh(o0).status()).isEqualTo(200);
        start = System.nanoTime();
        Reply served = other.refresh(o0);
        took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(served.status()).as("alert-only reuse: %s", served).isEqualTo(200);
        assertThat(took).as("alert-only response time with a dead SMTP server").isLessThan(Duration.ofSeconds(3));

        String warning = log.awaitLine(MAIL_WAIT, "a WARN about the unsent alert email of family " + familyId,
                l -> l.contains(" WARN ") && l.contains("could not send the reuse alert email") && l.contains(familyId));
        assertThat(warning).contains("[" + AlertMail.class.getName() + "]").contains("realm '" + realm.name + "'");
        assertThat(blackhole.connections()).as("Keycloak did try the SMTP server").isPositive();
    }

    @Test
    void noEventLogLineOrEmailCarriesATokenOrAnyPartOfItsSignature() {
        String team = teamAddress();
        TestRealm realm = mailRealm("mail-leak", team, SMTP.getSmtp().getPort(), Map.of());
        realm.update(r -> {
            r.put("adminEventsEnabled", true);
            r.put("adminEventsDetailsEnabled", true);
        });
        realm.admin.setRealmAttributes(realm.name, Map.of("refresh.guard.grace.seconds", "60"));
        realm.clientAttributes("other", Map.of("refresh.guard.reuse.action", "alert-only"));
        TokenLeaks tokens = new TokenLeaks();

        // spa: refresh, grace replay, successor used, reuse (revokes), use of the revoked family
        Oidc spa = realm.spa();
        Reply login = spa.password("alice", "alice");
        tokens.add(login.text("access_token"), login.text("refresh_token"), login.text("id_token"));
        String t0 = login.text("refresh_token");
        Reply r1 = spa.refresh(t0, Map.of("User-Agent", USER_AGENT));
        Reply replay = spa.refresh(t0, Map.of("User-Agent", USER_AGENT));
        assertThat(replay.text("refresh_token")).isEqualTo(r1.text("refresh_token"));
        Reply r2 = spa.refresh(r1.text("refresh_token"));
        for (Reply r : List.of(r1, replay, r2)) {
            tokens.add(r.text("access_token"), r.text("refresh_token"), r.text("id_token"));
        }
        Oidc.expectReuseDetected(spa.refresh(t0, Map.of("User-Agent", USER_AGENT)));
        Oidc.expectFamilyRevokedAfterReuse(spa.refresh(r2.text("refresh_token")));
        assertThat(spa.userinfo(r2.text("access_token")).status()).isEqualTo(401);
        // other (alert-only): the reuse is served, so its answer holds tokens too
        Oidc other = realm.oidc("other");
        Reply o = other.password("bob", "bob");
        Reply o1 = other.refresh(o.text("refresh_token"));
        Reply o2 = other.refresh(o1.text("refresh_token"));
        Reply served = other.refresh(o.text("refresh_token"), Map.of("User-Agent", USER_AGENT));
        assertThat(served.status()).isEqualTo(200);
        for (Reply r : List.of(o, o1, o2, served)) {
            tokens.add(r.text("access_token"), r.text("refresh_token"), r.text("id_token"));
        }
        assertThat(tokens.size()).isGreaterThanOrEqualTo(20);

        List<ReceivedLetter> letters = awaitLetters(realm, 4);
        log.awaitAlertOfFamily(Oidc.claims(t0).get("rg_fid").asText());
        log.awaitAlertOfFamily(Oidc.claims(o.text("refresh_token")).get("rg_fid").asText());

        tokens.assertNoneIn("the realm's events", realm.admin.ok("GET", "/" + realm.name + "/events?max=10000", null).body());
        tokens.assertNoneIn("the realm's admin events", realm.admin.ok("GET", "/" + realm.name + "/admin-events?max=10000", null).body());
        tokens.assertNoneIn("the server log", log.text());
        for (ReceivedLetter letter : letters) {
            tokens.assertNoneIn("the email to " + letter.to(), letter.everything());
        }
        assertThat(realm.admin.events(realm.name, "REFRESH_TOKEN_ERROR", AlertVocabulary.ERROR_REUSED)).hasSize(2);
    }

    // ---------------------------------------------------------------------------------------------------------

    /** One reuse by a user on spa, with the facts a letter should show. */
    private record Reuse(String familyId, String sessionId, String ip, String day) {
    }

    private Reuse reuse(TestRealm realm, String username) {
        Oidc spa = realm.spa();
        Reply login = spa.password(username, username);
        String first = login.text("refresh_token");
        assertThat(spa.refresh(first).status()).isEqualTo(200);
        String day = java.time.LocalDate.now(java.time.ZoneOffset.UTC).toString();
        Oidc.expectReuseDetected(spa.refresh(first, Map.of("User-Agent", USER_AGENT)));
        String familyId = Oidc.claims(first).get("rg_fid").asText();
        JsonNode line = log.awaitAlertOfFamily(familyId);
        return new Reuse(familyId, login.text("session_state"), line.get("ip_address").asText(), day);
    }

    private TestRealm mailRealm(String prefix, String team, int smtpPort, Map<String, String> smtpExtra) {
        TestRealm realm = TestRealm.guarded(server, prefix,
                Map.of("refresh.guard.notify.user", "true", "refresh.guard.alert.email", team));
        realm.sendMailThrough(smtpPort, smtpExtra);
        return realm;
    }

    private static String teamAddress() {
        return "secops-" + UUID.randomUUID().toString().substring(0, 8) + "@example.org";
    }

    private static void unverify(TestRealm realm, String username) {
        updateUser(realm, username, u -> u.put("emailVerified", false));
    }

    private static void setLocale(TestRealm realm, String username, String locale) {
        updateUser(realm, username, u -> u.with("attributes").putArray("locale").add(locale));
    }

    private static void updateUser(TestRealm realm, String username, Consumer<ObjectNode> change) {
        String path = "/" + realm.name + "/users/" + realm.userIds.get(username);
        ObjectNode rep = (ObjectNode) realm.admin.ok("GET", path, null).json();
        change.accept(rep);
        realm.admin.ok("PUT", path, rep);
    }

    /** The letters about one realm: its name is in every subject. */
    private static List<ReceivedLetter> letters(TestRealm realm) {
        return ReceivedLetter.of(SMTP.getReceivedMessages()).stream()
                .filter(l -> l.subject() != null && l.subject().contains(realm.name)).toList();
    }

    /** Exactly {@code count} letters about the realm: waits for them, then for a settle window in which no more arrive. */
    private static List<ReceivedLetter> awaitLetters(TestRealm realm, int count) {
        return Await.exactly(count, MAIL_WAIT, "letters about realm " + realm.name, () -> letters(realm));
    }

    private static ReceivedLetter only(List<ReceivedLetter> letters, String address) {
        List<ReceivedLetter> to = letters.stream().filter(l -> l.isTo(address)).toList();
        assertThat(to).as("letters to %s among %s", address, letters).hasSize(1);
        return to.get(0);
    }

    /** An SMTP server that accepts connections and never says a word. */
    private static final class Blackhole {
        private final ServerSocket socket;
        private final List<Socket> held = new CopyOnWriteArrayList<>();

        Blackhole() {
            try {
                socket = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Thread acceptor = new Thread(() -> {
                while (!socket.isClosed()) {
                    try {
                        held.add(socket.accept());
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "smtp-blackhole");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        int connections() {
            return held.size();
        }

        void close() {
            try {
                socket.close();
                for (Socket s : held) {
                    s.close();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
