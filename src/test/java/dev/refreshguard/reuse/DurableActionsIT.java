package dev.refreshguard.reuse;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.Database;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.Racers;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.ServerLog;
import dev.refreshguard.harness.TestRealm;

/**
 * Issue 23, point 7: the durable redo of a reuse revocation (the request's transaction rolled back) for the
 * session-wide actions, with the trigger ReuseIT's durable test uses (a deferred constraint trigger fails the commit of
 * the first transaction that updates the family); and two concurrent reuses of two families of one user under
 * {@code revoke-all-sessions}.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DurableActionsIT {

    private KeycloakServer server;

    @BeforeAll
    void server(KeycloakServer server) {
        this.server = server;
    }

    @Test
    void revokeUserSessionIsRedoneAfterARolledBackRequest() throws SQLException {
        TestRealm realm = TestRealm.guarded(server, "durable-us", Map.of());
        realm.clientAttributes("spa", Map.of("refresh.guard.reuse.action", "revoke-user-session"));
        Oidc spa = realm.spa();
        Reply login = ok(spa.password("alice", "alice"));
        Reply offline = ok(spa.password("alice", "alice", "scope", "openid offline_access"));
        String r0 = login.text("refresh_token");
        Reply first = ok(spa.refresh(r0));
        String familyId = Oidc.claims(r0).get("rg_fid").asText();

        reuseWithFailedCommit(spa, r0, familyId);

        String alice = realm.userIds.get("alice");
        Await.until(Duration.ofSeconds(30), "the login's user session ended by the redo",
                () -> realm.admin.userSessionCount(realm.name, alice) == 0);
        assertThat(spa.refresh(first.text("refresh_token")).status()).isEqualTo(400);
        assertThat(spa.userinfo(first.text("access_token")).status()).isEqualTo(401);
        assertThat(spa.refresh(offline.text("refresh_token")).status()).as("offline untouched").isEqualTo(200);
        assertThat(realm.admin.events(realm.name, "REFRESH_TOKEN_ERROR", "refresh_token_reused")).hasSize(1);
    }

    @Test
    void revokeAllSessionsIsRedoneAfterARolledBackRequest() throws SQLException {
        TestRealm realm = TestRealm.guarded(server, "durable-all", Map.of());
        realm.clientAttributes("spa", Map.of("refresh.guard.reuse.action", "revoke-all-sessions"));
        Oidc spa = realm.spa();
        Reply login = ok(spa.password("alice", "alice"));
        Reply second = ok(realm.oidc("other").password("alice", "alice"));
        Reply offline = ok(spa.password("alice", "alice", "scope", "openid offline_access"));
        String r0 = login.text("refresh_token");
        ok(spa.refresh(r0));
        String familyId = Oidc.claims(r0).get("rg_fid").asText();

        reuseWithFailedCommit(spa, r0, familyId);

        String alice = realm.userIds.get("alice");
        Await.until(Duration.ofSeconds(30), "every session of alice ended by the redo",
                () -> realm.admin.userSessionCount(realm.name, alice) == 0
                        && realm.admin.offlineSessionCount(realm.name, alice, realm.clientUuids.get("spa")) == 0);
        assertThat(realm.oidc("other").refresh(second.text("refresh_token")).status()).isEqualTo(400);
        assertThat(spa.refresh(offline.text("refresh_token")).status()).isEqualTo(400);
        assertThat(liveFamiliesOf(alice)).as("no family of alice is left ACTIVE").isZero();
        assertThat(realm.admin.events(realm.name, "REFRESH_TOKEN_ERROR", "refresh_token_reused")).hasSize(1);
    }

    /**
     * Each reuse holds its own family's row when it goes for all of the user's families: the database aborts one of
     * the two. Both must still be reuse (400, never a 5xx) and end with everything revoked. On PostgreSQL a trigger
     * holds each reuse for a second after it revoked its own family, so that both hold their own row before either goes
     * for the other's: the deadlock happens every time. Without it (MariaDB), several users make it likely.
     */
    @Test
    void twoConcurrentReusesOfOneUserUnderRevokeAllSessionsBothEndEverything() throws SQLException {
        // The server is shared: 500s that other classes provoke on purpose (failed commits) are theirs, not this race's.
        ServerLog log = new ServerLog(server);
        int earlierErrors = log.uncaughtErrors().size();
        boolean postgres = !Database.isMariaDb(server.jdbcUrl());
        if (postgres) {
            try (Connection db = Database.connect(server.jdbcUrl()); Statement sql = db.createStatement()) {
                sql.execute("CREATE TABLE IF NOT EXISTS rg_test_slow (user_id VARCHAR(36) PRIMARY KEY)");
                sql.execute("CREATE OR REPLACE FUNCTION rg_test_slow_revoke() RETURNS trigger AS $$ BEGIN"
                        + " IF NEW.state = 'REVOKED' AND OLD.state = 'ACTIVE'"
                        + " AND EXISTS (SELECT 1 FROM rg_test_slow WHERE user_id = NEW.user_id) THEN PERFORM pg_sleep(1); END IF;"
                        + " RETURN NULL; END $$ LANGUAGE plpgsql");
                sql.execute("DROP TRIGGER IF EXISTS rg_test_slow_trg ON RG_FAMILY");
                sql.execute("CREATE TRIGGER rg_test_slow_trg AFTER UPDATE ON RG_FAMILY FOR EACH ROW EXECUTE FUNCTION rg_test_slow_revoke()");
            }
        }
        try {
            raceRounds(postgres);
        } finally {
            if (postgres) {
                try (Connection db = Database.connect(server.jdbcUrl()); Statement sql = db.createStatement()) {
                    sql.execute("DROP TRIGGER IF EXISTS rg_test_slow_trg ON RG_FAMILY");
                }
            }
        }
        List<String> errors = log.uncaughtErrors();
        assertThat(errors.subList(earlierErrors, errors.size())).as("uncaught server errors during the race").isEmpty();
    }

    private void raceRounds(boolean slowRevocations) throws SQLException {
        TestRealm realm = TestRealm.guarded(server, "all-race", Map.of());
        realm.clientAttributes("spa", Map.of("refresh.guard.reuse.action", "revoke-all-sessions"));
        Oidc spa = realm.spa();
        for (int round = 0; round < 4; round++) {
            String user = "racer" + round;
            String userId = realm.addUser(user);
            if (slowRevocations) {
                try (Connection db = Database.connect(server.jdbcUrl()); Statement sql = db.createStatement()) {
                    sql.execute("INSERT INTO rg_test_slow VALUES ('" + userId + "')");
                }
            }
            String a0 = ok(spa.password(user, user)).text("refresh_token");
            String b0 = ok(spa.password(user, user)).text("refresh_token");
            Reply offline = ok(spa.password(user, user, "scope", "openid offline_access"));
            ok(spa.refresh(a0));
            ok(spa.refresh(b0));

            List<Reply> replies = Racers.race(2, Duration.ofSeconds(60), i -> spa.refresh(i == 0 ? a0 : b0));
            // Each reuse is detected, unless the other one's revocation of every family of the user came first.
            for (Reply reply : replies) {
                assertThat(reply.status() + " " + reply.text("error") + " " + reply.text("error_description")).as("no 5xx: %s", reply)
                        .isIn("400 invalid_grant " + Oidc.REUSE_DETECTED, "400 invalid_grant " + Oidc.FAMILY_REVOKED_AFTER_REUSE);
            }
            assertThat(replies).as("at least one reuse detected").anyMatch(r -> Oidc.REUSE_DETECTED.equals(r.text("error_description")));
            // Each detected reuse is counted into its family's incident: the loser of the lock race by its redo.
            for (int i = 0; i < replies.size(); i++) {
                if (Oidc.REUSE_DETECTED.equals(replies.get(i).text("error_description"))) {
                    String family = Oidc.claims(i == 0 ? a0 : b0).get("rg_fid").asText();
                    Await.until(Duration.ofSeconds(30), "the reuse of family " + family + " counted into its incident",
                            () -> incidentCount(family) == 1);
                }
            }
            Await.until(Duration.ofSeconds(30), "every session of " + user + " ended",
                    () -> realm.admin.userSessionCount(realm.name, userId) == 0
                            && realm.admin.offlineSessionCount(realm.name, userId, realm.clientUuids.get("spa")) == 0);
            assertThat(spa.refresh(offline.text("refresh_token")).status()).isEqualTo(400);
            Await.until(Duration.ofSeconds(30), "no family of " + user + " left ACTIVE", () -> liveFamiliesOf(userId) == 0);
        }
    }

    /**
     * Presents the rotated-away {@code r0} while the first commit that updates its family fails (ReuseIT's deferred
     * trigger): the request's answer is no success, and the family ends REVOKED in the redo's own transaction.
     */
    private void reuseWithFailedCommit(Oidc spa, String r0, String familyId) throws SQLException {
        Assumptions.assumeFalse(Database.isMariaDb(server.jdbcUrl()),
                "the wider actions' redo is proven on PostgreSQL (ReuseIT proves the redo itself on MariaDB too)");
        ReuseIT.reuseWhoseCommitFailsOnADeferredTrigger(server, spa, r0, familyId);
    }

    private int incidentCount(String familyId) {
        try (Connection db = Database.connect(server.jdbcUrl());
             Statement sql = db.createStatement();
             ResultSet rows = sql.executeQuery("SELECT INCIDENT_COUNT FROM RG_FAMILY WHERE ID = '" + familyId + "'")) {
            return rows.next() ? rows.getInt(1) : -1;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private int liveFamiliesOf(String userId) {
        try (Connection db = Database.connect(server.jdbcUrl());
             Statement sql = db.createStatement();
             ResultSet rows = sql.executeQuery("SELECT COUNT(*) FROM RG_FAMILY WHERE USER_ID = '" + userId + "' AND STATE = 'ACTIVE'")) {
            rows.next();
            return rows.getInt(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Reply ok(Reply reply) {
        assertThat(reply.status()).as("%s", reply).isEqualTo(200);
        return reply;
    }
}
