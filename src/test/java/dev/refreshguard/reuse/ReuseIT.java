package dev.refreshguard.reuse;

import static dev.refreshguard.harness.Oidc.expectFamilyRevoked;
import static dev.refreshguard.harness.Oidc.expectFamilyRevokedAfterReuse;
import static dev.refreshguard.harness.Oidc.expectReuseDetected;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.oauth2.sdk.AccessTokenResponse;
import com.nimbusds.oauth2.sdk.RefreshTokenGrant;
import com.nimbusds.oauth2.sdk.ResourceOwnerPasswordCredentialsGrant;
import com.nimbusds.oauth2.sdk.Scope;
import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.TokenResponse;
import com.nimbusds.oauth2.sdk.auth.ClientSecretBasic;
import com.nimbusds.oauth2.sdk.auth.Secret;
import com.nimbusds.oauth2.sdk.id.ClientID;
import com.nimbusds.oauth2.sdk.token.RefreshToken;
import com.sun.net.httpserver.HttpServer;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.Database;
import dev.refreshguard.harness.FamilyEvents;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.Racers;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.TestRealm;

/** Rotation, reuse detection and each revocation scope, as a client and a security team see them. */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReuseIT {

    private static final String REUSED = "refresh_token_reused";
    private static final String FAMILY_REVOKED = "refresh_token_family_revoked";
    private static final Duration RACE_TIMEOUT = Duration.ofMinutes(2);

    private KeycloakServer server;

    @BeforeAll
    void server(KeycloakServer server) {
        this.server = server;
    }

    private TestRealm realm(String prefix, Map<String, String> spaPolicy) {
        TestRealm realm = TestRealm.guarded(server, prefix, Map.of());
        if (!spaPolicy.isEmpty()) {
            realm.clientAttributes("spa", spaPolicy);
        }
        return realm;
    }

    @Test
    void everyRefreshRotatesAndSpendsThePreviousToken() {
        Oidc spa = realm("rotation", Map.of()).spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        String r1 = ok(spa.refresh(r0)).text("refresh_token");
        String r2 = ok(spa.refresh(r1)).text("refresh_token");

        assertThat(List.of(r0, r1, r2)).doesNotHaveDuplicates();
        JsonNode c0 = Oidc.claims(r0);
        JsonNode c2 = Oidc.claims(r2);
        assertThat(c2.get("rg_fid").asText()).isEqualTo(c0.get("rg_fid").asText());
        assertThat(c0.get("rg_gen").asInt()).isZero();
        assertThat(c2.get("rg_gen").asInt()).isEqualTo(2);
        expectReuseDetected(spa.refresh(r1));
    }

    @Test
    void reuseRevokesTheWholeFamilyAndNothingElse() {
        TestRealm realm = realm("family", Map.of());
        Oidc spa = realm.spa();
        Oidc api = realm.oidc("api");
        Reply login = ok(spa.password("alice", "alice"));
        Reply otherClient = ok(realm.oidc("other").password("alice", "alice"));
        Reply secondLogin = ok(spa.password("alice", "alice"));
        String r0 = login.text("refresh_token");
        Reply first = ok(spa.refresh(r0));
        String r1 = first.text("refresh_token");
        String a1 = first.text("access_token");
        assertThat(spa.userinfo(a1).status()).isEqualTo(200);
        assertThat(api.introspect(a1).json().get("active").asBoolean()).as("live before the reuse").isTrue();

        expectReuseDetected(spa.refresh(r0));

        expectFamilyRevokedAfterReuse(spa.refresh(r1));
        assertThat(spa.userinfo(a1).status()).isEqualTo(401);
        assertThat(spa.userinfo(login.text("access_token")).status()).isEqualTo(401);
        assertThat(api.introspect(a1).json().get("active").asBoolean()).isFalse();

        // The user's other client and a second login of the same client are untouched.
        assertThat(realm.oidc("other").refresh(otherClient.text("refresh_token")).status()).isEqualTo(200);
        assertThat(spa.userinfo(otherClient.text("access_token")).status()).isEqualTo(200);
        assertThat(spa.refresh(secondLogin.text("refresh_token")).status()).isEqualTo(200);

        String familyId = Oidc.claims(r0).get("rg_fid").asText();
        JsonNode alert = onlyEvent(realm, REUSED);
        assertThat(alert.get("type").asText()).isEqualTo("REFRESH_TOKEN_ERROR");
        assertThat(alert.get("userId").asText()).isEqualTo(realm.userIds.get("alice"));
        assertThat(alert.get("sessionId").asText()).isEqualTo(Oidc.claims(r0).get("sid").asText());
        assertThat(alert.get("clientId").asText()).isEqualTo("spa");
        assertThat(alert.get("ipAddress").asText()).isEqualTo(server.clientAddress());
        JsonNode details = alert.get("details");
        assertThat(details.get("family_id").asText()).isEqualTo(familyId);
        assertThat(details.get("generation").asText()).isEqualTo("0");
        assertThat(details.get("latest_generation").asText()).isEqualTo("1");
        assertThat(Long.parseLong(details.get("seconds_since_rotation").asText())).isBetween(0L, 30L);
        assertThat(details.get("first_use_ip").asText()).isEqualTo(server.clientAddress());
        assertThat(details.get("action").asText()).isEqualTo("revoke-family");
        assertThat(details.get("sessions_revoked").asText()).isEqualTo("1");

        JsonNode revoked = onlyEvent(realm, FAMILY_REVOKED);
        assertThat(revoked.get("details").get("family_id").asText()).isEqualTo(familyId);
    }

    @Test
    void aReplayInTheSameSecondIsStillReuse() {
        TestRealm realm = realm("same-second", Map.of());
        Oidc spa = realm.spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        ok(spa.refresh(r0));
        expectReuseDetected(spa.refresh(r0));
        assertThat(onlyEvent(realm, REUSED).get("details").get("seconds_since_rotation").asText()).isIn("0", "1");
    }

    @Test
    void graceReplayReturnsTheVerySameSuccessorUntilItIsUsed() {
        TestRealm realm = realm("grace", Map.of("refresh.guard.grace.seconds", "60"));
        Oidc spa = realm.spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        Reply first = ok(spa.refresh(r0));
        String r1 = first.text("refresh_token");

        Reply replay = ok(spa.refresh(r0));
        assertThat(replay.text("refresh_token")).isEqualTo(r1);
        assertThat(replay.text("access_token")).isNotEqualTo(first.text("access_token"));
        long successorExp = Oidc.claims(r1).get("exp").asLong();
        assertThat(replay.json().get("refresh_expires_in").asLong())
                .isBetween(successorExp - java.time.Instant.now().getEpochSecond() - 2, successorExp - java.time.Instant.now().getEpochSecond() + 2);
        assertThat(ok(spa.refresh(r0)).text("refresh_token")).isEqualTo(r1);

        String r2 = ok(spa.refresh(r1)).text("refresh_token");
        assertThat(r2).isNotEqualTo(r1);
        expectReuseDetected(spa.refresh(r0));
    }

    @Test
    void anOlderGenerationIsReuseEvenInsideTheGraceWindow() {
        TestRealm realm = realm("grace-older", Map.of("refresh.guard.grace.seconds", "60"));
        Oidc spa = realm.spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        String r1 = ok(spa.refresh(r0)).text("refresh_token");
        ok(spa.refresh(r1));
        expectReuseDetected(spa.refresh(r0));
        JsonNode details = onlyEvent(realm, REUSED).get("details");
        assertThat(details.get("generation").asText()).isEqualTo("0");
        assertThat(details.get("latest_generation").asText()).isEqualTo("2");
        assertThat(details.get("first_use_ip").asText()).isEqualTo("unknown");
    }

    @Test
    void afterTheGraceWindowAReplayIsReuse() {
        TestRealm realm = realm("grace-ends", Map.of("refresh.guard.grace.seconds", "2"));
        Oidc spa = realm.spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        String r1 = ok(spa.refresh(r0)).text("refresh_token");
        Await.pastEpochSecond(Oidc.claims(r1).get("iat").asLong() + 2);
        expectReuseDetected(spa.refresh(r0));
    }

    @Test
    void fiftyRacersWithOneTokenAndNoGraceHaveExactlyOneWinner() {
        Oidc spa = realm("race", Map.of()).spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        List<Reply> replies = Racers.race(50, RACE_TIMEOUT, i -> spa.refresh(r0));
        List<Reply> wins = replies.stream().filter(r -> r.status() == 200).toList();
        assertThat(wins).hasSize(1);
        // The first loser's reuse revokes the family; every later loser presents a token of a revoked family.
        Oidc.expectOneReuseThenRevoked(replies.stream().filter(r -> r.status() != 200).toList());
    }

    @Test
    void fiftyRacersInsideTheGraceWindowAllGetTheSameSuccessor() {
        Oidc spa = realm("race-grace", Map.of("refresh.guard.grace.seconds", "120")).spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        List<Reply> replies = Racers.race(50, RACE_TIMEOUT, i -> spa.refresh(r0));
        assertThat(replies).allSatisfy(r -> assertThat(r.status()).as("%s", r).isEqualTo(200));
        assertThat(replies.stream().map(r -> r.text("refresh_token")).distinct()).hasSize(1);
        assertThat(replies.stream().map(r -> r.text("access_token")).distinct()).hasSize(50);
    }

    @Test
    void revokingAnyTokenOfAFamilyAtTheRevocationEndpointRevokesTheFamily() {
        TestRealm realm = realm("rfc7009", Map.of());
        Oidc spa = realm.spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        Reply first = ok(spa.refresh(r0));
        String r1 = first.text("refresh_token");
        assertThat(realm.oidc("api").introspect(first.text("access_token")).json().get("active").asBoolean()).isTrue();
        assertThat(spa.revoke(r1, "refresh_token").status()).isEqualTo(200);

        expectFamilyRevoked(spa.refresh(r1));
        assertThat(onlyEvent(realm, FAMILY_REVOKED).get("details").get("family_id").asText())
                .isEqualTo(Oidc.claims(r1).get("rg_fid").asText());
        assertThat(realm.oidc("api").introspect(first.text("access_token")).json().get("active").asBoolean()).isFalse();
    }

    @Test
    void alertOnlyServesTheReuseAndRevokesNothing() {
        TestRealm realm = realm("alert-only", Map.of("refresh.guard.reuse.action", "alert-only"));
        Oidc spa = realm.spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        String r1 = ok(spa.refresh(r0)).text("refresh_token");
        Reply served = ok(spa.refresh(r0));
        assertThat(spa.userinfo(served.text("access_token")).status()).isEqualTo(200);
        assertThat(spa.refresh(r1).status()).isEqualTo(200);

        JsonNode details = onlyEvent(realm, REUSED).get("details");
        assertThat(details.get("action").asText()).isEqualTo("alert-only");
        assertThat(details.get("sessions_revoked").asText()).isEqualTo("0");
        assertThat(realm.admin.events(realm.name, "REFRESH_TOKEN_ERROR", FAMILY_REVOKED)).isEmpty();
    }

    @Test
    void alertOnlyNeverHandsTheReuserTheNewestTokenAndAlertsOnEachOfItsUses() {
        TestRealm realm = realm("alert-chain", Map.of("refresh.guard.reuse.action", "alert-only"));
        Oidc spa = realm.spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        String legit = ok(spa.refresh(r0)).text("refresh_token");

        // The reuser's chain: served as if rotation were off, so it stays at the spent generation. Each use is a reuse
        // of one incident (issue 26): the 1st and 2nd raise a stored event, the 3rd only counts (the 4th would speak).
        String reuser = r0;
        for (int use = 1; use <= 3; use++) {
            reuser = ok(spa.refresh(reuser)).text("refresh_token");
            assertThat(Oidc.claims(reuser).get("rg_gen").asInt()).as("the reuser's token, use %d", use).isZero();
            int expected = Math.min(use, 2);
            Await.exactly(expected, Duration.ofSeconds(10), "reuse alerts",
                    () -> realm.admin.events(realm.name, "REFRESH_TOKEN_ERROR", REUSED));
        }

        // The legitimate chain keeps refreshing, with no alert of its own.
        for (int i = 0; i < 3; i++) {
            legit = ok(spa.refresh(legit)).text("refresh_token");
        }
        assertThat(Oidc.claims(legit).get("rg_gen").asInt()).isEqualTo(4);
        assertThat(Await.exactly(2, Duration.ofSeconds(10), "reuse alerts",
                () -> realm.admin.events(realm.name, "REFRESH_TOKEN_ERROR", REUSED)))
                .allSatisfy(e -> assertThat(e.get("details").get("generation").asText()).isEqualTo("0"))
                .extracting(e -> e.get("details").get("incident_count").asText()).containsExactlyInAnyOrder("1", "2");
    }

    @Test
    void revokeUserSessionEndsTheLoginForAllItsClientsButNotOfflineTokens() throws IOException {
        TestRealm realm = realm("user-session", Map.of("refresh.guard.reuse.action", "revoke-user-session"));
        List<String> logoutTokens = new CopyOnWriteArrayList<>();
        HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/logout", exchange -> {
            logoutTokens.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        receiver.start();
        try {
            realm.clientAttributes("api", Map.of("backchannel.logout.url",
                    "http://127.0.0.1:" + receiver.getAddress().getPort() + "/logout", "backchannel.logout.session.required", "true"));
            Oidc.Browser browser = new Oidc.Browser();
            Oidc spa = realm.spa();
            Oidc api = realm.oidc("api");
            Reply spaLogin = ok(spa.authorizationCode(browser, "alice", "alice", TestRealm.REDIRECT));
            Reply apiLogin = ok(api.authorizationCode(browser, "alice", "alice", TestRealm.REDIRECT));
            assertThat(Oidc.claims(apiLogin.text("refresh_token")).get("sid").asText())
                    .isEqualTo(Oidc.claims(spaLogin.text("refresh_token")).get("sid").asText());
            Reply offline = ok(spa.password("alice", "alice", "scope", "openid offline_access"));
            assertThat(Oidc.claims(offline.text("refresh_token")).get("typ").asText()).isEqualTo("Offline");

            String r0 = spaLogin.text("refresh_token");
            ok(spa.refresh(r0));
            expectReuseDetected(spa.refresh(r0));

            expectFamilyRevokedAfterReuse(api.refresh(apiLogin.text("refresh_token")));
            assertThat(api.userinfo(apiLogin.text("access_token")).status()).isEqualTo(401);
            Await.until(Duration.ofSeconds(30), "a backchannel logout at the api client", () -> !logoutTokens.isEmpty());
            assertThat(logoutTokens.get(0)).startsWith("logout_token=");
            assertThat(spa.refresh(offline.text("refresh_token")).status()).isEqualTo(200);
            assertThat(onlyEvent(realm, REUSED).get("details").get("action").asText()).isEqualTo("revoke-user-session");
        } finally {
            receiver.stop(0);
        }
    }

    @Test
    void revokeAllSessionsEndsEveryOnlineAndOfflineSessionOfTheUser() {
        TestRealm realm = realm("all-sessions", Map.of("refresh.guard.reuse.action", "revoke-all-sessions"));
        Oidc spa = realm.spa();
        Reply first = ok(spa.password("alice", "alice"));
        Reply second = ok(realm.oidc("other").password("alice", "alice"));
        Reply offline = ok(spa.password("alice", "alice", "scope", "openid offline_access"));
        Reply bob = ok(spa.password("bob", "bob"));
        String r0 = first.text("refresh_token");
        ok(spa.refresh(r0));
        String alice = realm.userIds.get("alice");
        int online = realm.admin.userSessionCount(realm.name, alice);
        int offlineSessions = realm.admin.offlineSessionCount(realm.name, alice, realm.clientUuids.get("spa"));
        assertThat(online + offlineSessions).as("alice's sessions before the reuse: %s online, %s offline", online, offlineSessions)
                .isEqualTo(3);

        expectReuseDetected(spa.refresh(r0));

        expectFamilyRevokedAfterReuse(realm.oidc("other").refresh(second.text("refresh_token")));
        expectFamilyRevokedAfterReuse(spa.refresh(offline.text("refresh_token")));
        assertThat(realm.admin.userSessionCount(realm.name, alice)).isZero();
        assertThat(realm.admin.offlineSessionCount(realm.name, alice, realm.clientUuids.get("spa"))).isZero();
        assertThat(spa.refresh(bob.text("refresh_token")).status()).isEqualTo(200);
        JsonNode details = onlyEvent(realm, REUSED).get("details");
        assertThat(details.get("action").asText()).isEqualTo("revoke-all-sessions");
        // Every session alice had, online and offline, counted once.
        assertThat(details.get("sessions_revoked").asText()).isEqualTo(String.valueOf(online + offlineSessions));
    }

    @Test
    void oneClientsReuseNeverTouchesAnotherClientsFamilyInTheSameLogin() {
        TestRealm realm = realm("isolation", Map.of());
        Oidc.Browser browser = new Oidc.Browser();
        Oidc spa = realm.spa();
        Oidc api = realm.oidc("api");
        Reply spaLogin = ok(spa.authorizationCode(browser, "alice", "alice", TestRealm.REDIRECT));
        Reply apiLogin = ok(api.authorizationCode(browser, "alice", "alice", TestRealm.REDIRECT));
        String r0 = spaLogin.text("refresh_token");
        ok(spa.refresh(r0));
        expectReuseDetected(spa.refresh(r0));

        Reply apiRefresh = ok(api.refresh(apiLogin.text("refresh_token")));
        assertThat(api.userinfo(apiRefresh.text("access_token")).status()).isEqualTo(200);
    }

    @Test
    void offlineTokensFormFamiliesToo() {
        TestRealm realm = realm("offline", Map.of());
        Oidc spa = realm.spa();
        String r0 = ok(spa.password("alice", "alice", "scope", "openid offline_access")).text("refresh_token");
        assertThat(Oidc.claims(r0).get("typ").asText()).isEqualTo("Offline");
        String r1 = ok(spa.refresh(r0)).text("refresh_token");
        assertThat(Oidc.claims(r1).get("rg_gen").asInt()).isEqualTo(1);
        expectReuseDetected(spa.refresh(r0));
        expectFamilyRevokedAfterReuse(spa.refresh(r1));
    }

    @Test
    void aRefreshWhoseTransactionFailsDoesNotBurnTheToken() throws SQLException {
        TestRealm realm = realm("tx-failure", Map.of());
        Oidc spa = realm.spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        String familyId = Oidc.claims(r0).get("rg_fid").asText();
        boolean mariaDb = Database.isMariaDb(server.jdbcUrl());
        try (Connection db = Database.connect(server.jdbcUrl());
             Statement sql = db.createStatement()) {
            sql.execute("CREATE TABLE IF NOT EXISTS rg_test_fail (family_id VARCHAR(36) PRIMARY KEY)");
            if (mariaDb) {
                // MariaDB has no deferred triggers: the rotate step's UPDATE itself fails, and the transaction with it.
                sql.execute("DROP TRIGGER IF EXISTS rg_test_fail_trg");
                sql.execute("CREATE TRIGGER rg_test_fail_trg AFTER UPDATE ON RG_FAMILY FOR EACH ROW BEGIN"
                        + " IF EXISTS (SELECT 1 FROM rg_test_fail WHERE family_id = NEW.ID) THEN"
                        + " SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected failure'; END IF; END");
            } else {
                // A deferred constraint trigger fails the request's transaction at commit, after the rotate step ran.
                sql.execute("CREATE OR REPLACE FUNCTION rg_test_fail_commit() RETURNS trigger AS $$ BEGIN"
                        + " IF EXISTS (SELECT 1 FROM rg_test_fail WHERE family_id = NEW.id) THEN"
                        + " RAISE EXCEPTION 'injected commit failure'; END IF; RETURN NULL; END $$ LANGUAGE plpgsql");
                sql.execute("DROP TRIGGER IF EXISTS rg_test_fail_trg ON RG_FAMILY");
                sql.execute("CREATE CONSTRAINT TRIGGER rg_test_fail_trg AFTER UPDATE ON RG_FAMILY"
                        + " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION rg_test_fail_commit()");
            }
            sql.execute("INSERT INTO rg_test_fail VALUES ('" + familyId + "')");
            try {
                Reply failed = spa.refresh(r0);
                assertThat(failed.status()).as("%s", failed).isNotEqualTo(200);
            } finally {
                sql.execute("DELETE FROM rg_test_fail WHERE family_id = '" + familyId + "'");
            }
        }
        Reply retried = ok(spa.refresh(r0));
        assertThat(Oidc.claims(retried.text("refresh_token")).get("rg_gen").asInt()).isEqualTo(1);
        Await.holdsFor(Await.SETTLE, "no reuse alert",
                () -> realm.admin.events(realm.name, "REFRESH_TOKEN_ERROR", REUSED).isEmpty());
    }

    @Test
    void aReuseRevocationAndItsAlertOutliveARolledBackRequest() throws Exception {
        TestRealm realm = realm("durable", Map.of());
        Oidc spa = realm.spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        Reply first = ok(spa.refresh(r0));
        String r1 = first.text("refresh_token");
        String familyId = Oidc.claims(r0).get("rg_fid").asText();
        if (Database.isMariaDb(server.jdbcUrl())) {
            reuseWhoseCommitFailsOnAKilledConnection(realm, spa, r0, familyId);
        } else {
            reuseWhoseCommitFailsOnADeferredTrigger(server, spa, r0, familyId);
        }
        JsonNode alert = onlyEvent(realm, REUSED);
        assertThat(alert.get("details").get("family_id").asText()).isEqualTo(familyId);
        // The request's incident count went with its transaction: the redo counted the reuse (in the revoke's transaction).
        try (Connection db = Database.connect(server.jdbcUrl()); Statement sql = db.createStatement()) {
            assertThat(number(sql, "SELECT INCIDENT_COUNT FROM RG_FAMILY WHERE ID = '" + familyId + "'"))
                    .as("the family's incident count after the redo").isEqualTo(1);
        }
        expectFamilyRevokedAfterReuse(spa.refresh(r1));
        assertThat(spa.userinfo(first.text("access_token")).status()).isEqualTo(401);
    }

    /** PostgreSQL: a deferred constraint trigger fails the reuse request's COMMIT, after its revocation ran. */
    static void reuseWhoseCommitFailsOnADeferredTrigger(KeycloakServer server, Oidc spa, String r0, String familyId)
            throws SQLException {
        try (Connection db = Database.connect(server.jdbcUrl());
             Statement sql = db.createStatement()) {
            // Fails the commit of the first transaction that updates this family — the reuse request's, after its
            // revocation ran — and no later one: a sequence is not rolled back with the transaction it serves.
            sql.execute("CREATE TABLE IF NOT EXISTS rg_test_durable (family_id VARCHAR(36) PRIMARY KEY)");
            sql.execute("DROP SEQUENCE IF EXISTS rg_test_durable_seq");
            sql.execute("CREATE SEQUENCE rg_test_durable_seq");
            sql.execute("CREATE OR REPLACE FUNCTION rg_test_durable_commit() RETURNS trigger AS $$ BEGIN"
                    + " IF EXISTS (SELECT 1 FROM rg_test_durable WHERE family_id = NEW.id) THEN"
                    + " IF nextval('rg_test_durable_seq') = 1 THEN RAISE EXCEPTION 'injected commit failure'; END IF;"
                    + " END IF; RETURN NULL; END $$ LANGUAGE plpgsql");
            sql.execute("DROP TRIGGER IF EXISTS rg_test_durable_trg ON RG_FAMILY");
            sql.execute("CREATE CONSTRAINT TRIGGER rg_test_durable_trg AFTER UPDATE ON RG_FAMILY"
                    + " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION rg_test_durable_commit()");
            sql.execute("INSERT INTO rg_test_durable VALUES ('" + familyId + "')");
            try {
                Reply reuse = spa.refresh(r0);
                assertThat(reuse.status()).as("the reuse request's transaction failed: %s", reuse).isNotEqualTo(200);
                awaitRevoked(sql, familyId);
                try (ResultSet failed = sql.executeQuery("SELECT last_value FROM rg_test_durable_seq")) {
                    assertThat(failed.next() && failed.getLong(1) >= 2).as("the injected failure fired, the redo committed").isTrue();
                }
            } finally {
                sql.execute("DELETE FROM rg_test_durable WHERE family_id = '" + familyId + "'");
                sql.execute("DROP TRIGGER IF EXISTS rg_test_durable_trg ON RG_FAMILY");
            }
        }
    }

    /**
     * MariaDB has no deferred constraints: here the reuse request's COMMIT fails because its connection is gone.
     * The request is held after its revocation UPDATE ran and before it commits — its alert event is stored in a
     * transaction of its own on another connection, and a trigger makes that insert wait on a row this test holds
     * locked — while the test kills the connection that ran the UPDATE (MariaDB rolls its transaction back at once).
     * Released, the request goes on to commit on the dead connection, and that commit fails.
     */
    private void reuseWhoseCommitFailsOnAKilledConnection(TestRealm realm, Oidc spa, String r0, String familyId) throws Exception {
        String realmId = realm.admin.ok("GET", "/" + realm.name, null).text("id");
        try (Connection db = Database.connect(server.jdbcUrl());
             Statement sql = db.createStatement();
             Connection gate = Database.connect(server.jdbcUrl());
             Statement gateSql = gate.createStatement()) {
            sql.execute("SET SESSION innodb_lock_wait_timeout = 20");
            sql.execute("CREATE TABLE IF NOT EXISTS rg_test_durable (family_id VARCHAR(36) PRIMARY KEY)");
            // Which connection revoked the family, and in what order: MyISAM is not transactional, so a row written
            // by a transaction that is rolled back later stays, and is visible at once.
            sql.execute("CREATE TABLE IF NOT EXISTS rg_test_revokers (seq INT AUTO_INCREMENT PRIMARY KEY,"
                    + " family_id VARCHAR(36) NOT NULL, conn BIGINT NOT NULL) ENGINE=MyISAM");
            sql.execute("DROP TRIGGER IF EXISTS rg_test_revokers_trg");
            sql.execute("CREATE TRIGGER rg_test_revokers_trg AFTER UPDATE ON RG_FAMILY FOR EACH ROW BEGIN"
                    + " IF NEW.STATE = 'REVOKED' AND OLD.STATE <> 'REVOKED'"
                    + " AND EXISTS (SELECT 1 FROM rg_test_durable WHERE family_id = NEW.ID) THEN"
                    + " INSERT INTO rg_test_revokers (family_id, conn) VALUES (NEW.ID, CONNECTION_ID()); END IF; END");
            // The gate: storing this realm's reuse alert event updates a row that the gate connection keeps locked.
            sql.execute("CREATE TABLE IF NOT EXISTS rg_test_gate (realm_id VARCHAR(36) PRIMARY KEY, passed INT NOT NULL)");
            sql.execute("DROP TRIGGER IF EXISTS rg_test_gate_trg");
            sql.execute("CREATE TRIGGER rg_test_gate_trg BEFORE INSERT ON EVENT_ENTITY FOR EACH ROW BEGIN"
                    + " IF NEW.ERROR = '" + REUSED + "' AND EXISTS (SELECT 1 FROM rg_test_gate WHERE realm_id = NEW.REALM_ID) THEN"
                    + " UPDATE rg_test_gate SET passed = passed + 1 WHERE realm_id = NEW.REALM_ID; END IF; END");
            sql.execute("INSERT INTO rg_test_gate VALUES ('" + realmId + "', 0)");
            sql.execute("INSERT INTO rg_test_durable VALUES ('" + familyId + "')");
            gate.setAutoCommit(false);
            long gateConnection = number(gateSql, "SELECT CONNECTION_ID()");
            number(gateSql, "SELECT passed FROM rg_test_gate WHERE realm_id = '" + realmId + "' FOR UPDATE");
            CompletableFuture<Reply> reuse = CompletableFuture.supplyAsync(() -> spa.refresh(r0));
            try {
                String waitingAtGate = "SELECT waiting.trx_mysql_thread_id FROM information_schema.INNODB_LOCK_WAITS w"
                        + " JOIN information_schema.INNODB_TRX waiting ON waiting.trx_id = w.requesting_trx_id"
                        + " JOIN information_schema.INNODB_TRX holder ON holder.trx_id = w.blocking_trx_id"
                        + " WHERE holder.trx_mysql_thread_id = " + gateConnection;
                Await.until(Duration.ofSeconds(60), "the reuse request to revoke the family and wait at the gate with its alert event", () -> {
                    if (reuse.isDone()) {
                        throw new AssertionError("the reuse request ended before it reached the gate: " + reuse.join());
                    }
                    return count(sql, "SELECT COUNT(*) FROM rg_test_revokers WHERE family_id = '" + familyId + "'") == 1
                            && count(sql, "SELECT COUNT(*) FROM (" + waitingAtGate + ") waiters") == 1;
                });
                long revoker = number(sql, "SELECT conn FROM rg_test_revokers WHERE family_id = '" + familyId + "'");
                assertThat(number(sql, waitingAtGate)).as("the connection storing the alert event, waiting at the gate")
                        .isNotEqualTo(revoker);
                assertThat(count(sql, "SELECT COUNT(*) FROM information_schema.INNODB_TRX WHERE trx_mysql_thread_id = "
                        + revoker + " AND trx_rows_modified > 0")).as("the revoking transaction, still open: not committed yet")
                        .isEqualTo(1);
                sql.execute("KILL CONNECTION " + revoker);
                // A locking read waits until the killed transaction's rollback has released the row: its revocation is gone.
                try (ResultSet row = sql.executeQuery("SELECT STATE FROM RG_FAMILY WHERE ID = '" + familyId + "' FOR UPDATE")) {
                    assertThat(row.next()).isTrue();
                    assertThat(row.getString(1)).as("the family once the request's connection was killed").isEqualTo("ACTIVE");
                }
                gate.rollback();

                Reply refused = reuse.get(90, TimeUnit.SECONDS);
                assertThat(refused.status()).as("the reuse request, whose commit failed: %s", refused).isNotEqualTo(200);
                awaitRevoked(sql, familyId);
                List<Long> revokers = new ArrayList<>();
                try (ResultSet rows = sql.executeQuery("SELECT conn FROM rg_test_revokers WHERE family_id = '" + familyId
                        + "' ORDER BY seq")) {
                    while (rows.next()) {
                        revokers.add(rows.getLong(1));
                    }
                }
                assertThat(revokers).as("connections that revoked the family: the killed request's, then the redo's")
                        .hasSize(2).startsWith(revoker).doesNotHaveDuplicates();
            } finally {
                gate.rollback();
                sql.execute("DROP TRIGGER IF EXISTS rg_test_gate_trg");
                sql.execute("DROP TRIGGER IF EXISTS rg_test_revokers_trg");
                sql.execute("DELETE FROM rg_test_gate WHERE realm_id = '" + realmId + "'");
                sql.execute("DELETE FROM rg_test_durable WHERE family_id = '" + familyId + "'");
            }
        }
    }

    private static void awaitRevoked(Statement sql, String familyId) {
        Await.until(Duration.ofSeconds(30), "the family revoked in a transaction of its own", () -> {
            try (ResultSet row = sql.executeQuery("SELECT STATE FROM RG_FAMILY WHERE ID = '" + familyId + "'")) {
                return row.next() && "REVOKED".equals(row.getString(1));
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private static long number(Statement sql, String query) throws SQLException {
        try (ResultSet rs = sql.executeQuery(query)) {
            assertThat(rs.next()).as("a row from %s", query).isTrue();
            return rs.getLong(1);
        }
    }

    private static long count(Statement sql, String query) {
        try {
            return number(sql, query);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void reuseAlertsReachTheEventStoreEvenWhenRefreshErrorsAreNotAmongTheSavedTypes() {
        TestRealm realm = realm("store", Map.of());
        realm.admin.ok("PUT", "/" + realm.name + "/events/config", Map.of("eventsEnabled", true,
                "eventsListeners", List.of("jboss-logging", "refresh-guard"), "enabledEventTypes", List.of("LOGIN")));
        Oidc spa = realm.spa();
        String r0 = ok(spa.password("alice", "alice")).text("refresh_token");
        ok(spa.refresh(r0));
        expectReuseDetected(spa.refresh(r0));
        onlyEvent(realm, REUSED);
        assertThat(realm.admin.events(realm.name, "REFRESH_TOKEN_ERROR", FAMILY_REVOKED)).isEmpty();
    }

    @Test
    void anOrdinaryOAuthLibraryRefreshesTwentyTimesWithoutSpecialHandling() throws Exception {
        TestRealm realm = realm("nimbus", Map.of());
        URI tokenEndpoint = URI.create(realm.oidc("api").tokenUrl());
        ClientSecretBasic auth = new ClientSecretBasic(new ClientID("api"), new Secret(TestRealm.API_SECRET));
        TokenResponse login = TokenResponse.parse(new TokenRequest(tokenEndpoint, auth,
                new ResourceOwnerPasswordCredentialsGrant("alice", new Secret("alice")), new Scope("openid")).toHTTPRequest().send());
        assertThat(login.indicatesSuccess()).isTrue();
        RefreshToken current = login.toSuccessResponse().getTokens().getRefreshToken();
        List<String> seen = new ArrayList<>(List.of(current.getValue()));
        for (int i = 0; i < 20; i++) {
            TokenResponse response = TokenResponse.parse(new TokenRequest(tokenEndpoint, auth, new RefreshTokenGrant(current))
                    .toHTTPRequest().send());
            assertThat(response.indicatesSuccess()).as("refresh %d", i + 1).isTrue();
            AccessTokenResponse success = response.toSuccessResponse();
            current = success.getTokens().getRefreshToken();
            assertThat(current).as("a new refresh token on refresh %d", i + 1).isNotNull();
            seen.add(current.getValue());
        }
        assertThat(seen).doesNotHaveDuplicates().hasSize(21);
    }

    // --- helpers -------------------------------------------------------------------------------------------

    private static Reply ok(Reply reply) {
        assertThat(reply.status()).as("%s", reply).isEqualTo(200);
        return reply;
    }

    /** The one event with this error in the realm, after a settle window in which no second one arrived. */
    private static JsonNode onlyEvent(TestRealm realm, String error) {
        return FamilyEvents.only(realm.admin, realm.name, error);
    }
}
