package dev.refreshguard.family;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.DatabaseCondition;
import dev.refreshguard.harness.DistributionServer;
import dev.refreshguard.harness.Http;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.ServerLog;
import dev.refreshguard.harness.TestRealm;

/**
 * The purge task on a server of its own with short values (a pass every 2 s, ended families kept 3 s, revoked ones
 * 12 s): families whose tokens can no longer be used disappear after their retention, live ones never do, a sealed
 * grace successor is gone once its window has passed, and every refresh-guard counter has a description.
 */
@ExtendWith(DatabaseCondition.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PurgeIT {

    private static final int INTERVAL = 2;
    private static final int RETENTION = 3;
    private static final int REVOKED_RETENTION = 12;
    private static final Duration PURGED = Duration.ofSeconds(60);
    private static final String OPTION = "--spi-refresh-guard--refresh-guard--";

    private DistributionServer server;
    private FamilyRows rows;
    private TestRealm realm;

    @BeforeAll
    void start() {
        server = DistributionServer.startFromCopy("purge", "rg_purge_" + System.currentTimeMillis(),
                List.of(OPTION + "purge-interval=" + INTERVAL, OPTION + "retention=" + RETENTION,
                        OPTION + "revoked-retention=" + REVOKED_RETENTION, OPTION + "purge-batch-size=2"),
                Map.of());
        rows = new FamilyRows(server.jdbcUrl());
        realm = TestRealm.guarded(server, "purge", Map.of());
        realm.clientAttributes("other", Map.of("refresh.guard.max.seconds", "3"));
        realm.clientAttributes("api", Map.of("refresh.guard.grace.seconds", "1"));
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private Reply login(String clientId, String user, String... extra) {
        Reply login = realm.oidc(clientId).password(user, user, extra);
        assertThat(login.status()).as("%s", login).isEqualTo(200);
        return login;
    }

    private static String familyOf(Reply tokens) {
        return Oidc.claims(tokens.text("refresh_token")).get("rg_fid").asText();
    }

    private JsonNode listed(String username, String familyId) {
        JsonNode families = realm.admin.ok("GET", "/" + realm.name + "/refresh-guard/families?user_id="
                + realm.userIds.get(username), null).json();
        for (JsonNode f : families) {
            if (familyId.equals(f.get("id").asText())) {
                return f;
            }
        }
        return null;
    }

    private int passes() {
        return new ServerLog(server).lines(l -> l.contains("refresh-guard family purge: ")).size();
    }

    /** Until at least {@code n} more passes have run: proof that time and passes went by, without a sleep. */
    private void awaitPasses(int n) {
        int target = passes() + n;
        Await.until(Duration.ofSeconds(n * INTERVAL * 5L + 30), n + " more purge passes", () -> passes() >= target);
    }

    /** Families are judged by their session only once they are older than the settle time. */
    private static void awaitSettled(Reply login) {
        Await.pastEpochSecond(Oidc.claims(login.text("refresh_token")).get("iat").asLong() + FamilyPurge.SESSION_SETTLE_SECONDS);
    }

    @Test
    void aLoggedOutFamilyEndsAtOnceAndIsDeletedAfterTheRetentionWhileLiveOnesStay() {
        realm.addUser("lou");
        Reply live = login("spa", "lou");
        Reply gone = login("spa", "lou");
        String goneFamily = familyOf(gone);
        Reply logout = new Http().postForm(server.baseUrl() + "/realms/" + realm.name + "/protocol/openid-connect/logout",
                Map.of("client_id", "spa", "refresh_token", gone.text("refresh_token")));
        assertThat(logout.status()).as("%s", logout).isEqualTo(204);

        // Ended at once by the logout, visible to admins; only live families are touched by later revocations.
        JsonNode ended = listed("lou", goneFamily);
        assertThat(ended.get("state").asText()).isEqualTo("ENDED");
        long endedAt = ended.get("endedAt").asLong();
        assertThat(endedAt).isBetween(Instant.now().getEpochSecond() - 30, Instant.now().getEpochSecond() + 1);
        assertThat(rows.state(goneFamily)).contains("ENDED");

        rows.awaitPurged(goneFamily, "ENDED", PURGED);
        assertThat(Instant.now().getEpochSecond()).as("deleted no earlier than the retention").isGreaterThanOrEqualTo(endedAt + RETENTION);
        awaitPasses(3);
        String liveFamily = familyOf(live);
        assertThat(rows.state(liveFamily)).as("the live family of the same user").contains("ACTIVE");
        assertThat(realm.spa().refresh(live.text("refresh_token")).status()).isEqualTo(200);
    }

    @Test
    void anAdminSignOutEndsTheFamiliesOfEverySessionAndThePurgeDeletesThem() {
        String userId = realm.addUser("sid");
        Reply first = login("spa", "sid");
        // Not "other": its refresh.guard.max.seconds=3 ends the family by itself, long before the sign-out.
        Reply second = login("api", "sid");
        awaitSettled(second);
        for (Reply live : List.of(first, second)) {
            assertThat(rows.state(familyOf(live))).as("a family of the user just before the sign-out").contains("ACTIVE");
        }

        realm.admin.ok("POST", "/" + realm.name + "/users/" + userId + "/logout", null);

        rows.awaitPurged(List.of(familyOf(first), familyOf(second)), "ENDED", PURGED);
    }

    @Test
    void anAdminSignOutOfTheUserEndsItsOfflineFamiliesThoughTheOfflineSessionStays() {
        String userId = realm.addUser("nbf");
        Reply offline = login("spa", "nbf", "scope", "openid offline_access");
        String family = familyOf(offline);
        awaitSettled(offline); // the sign-out's not-before must be a later second than the token's iat

        // "Sign out" of the user: online sessions end, offline ones stay, and the user's not-before refuses their tokens.
        realm.admin.ok("POST", "/" + realm.name + "/users/" + userId + "/logout", null);
        assertThat(realm.admin.ok("GET", "/" + realm.name + "/users/" + userId + "/offline-sessions/"
                + realm.clientUuids.get("spa"), null).json()).as("the offline session outlives the sign-out").hasSize(1);
        assertThat(realm.spa().refresh(offline.text("refresh_token")).status()).isEqualTo(400);

        rows.awaitPurged(family, "ENDED", PURGED);
    }

    @Test
    void aRevokedOfflineSessionEndsItsFamily() {
        String userId = realm.addUser("olga");
        Reply offline = login("spa", "olga", "scope", "openid offline_access");
        String family = familyOf(offline);
        awaitSettled(offline);

        // The account's "revoke offline access" of the client, as an admin does it.
        realm.admin.ok("DELETE", "/" + realm.name + "/users/" + userId + "/consents/spa", null);

        rows.awaitPurged(family, "ENDED", PURGED);
    }

    @Test
    void aFamilyPastItsOwnMaximumEndsAndIsDeletedWhileItsSessionLives() {
        realm.addUser("max");
        Reply shortLived = login("other", "max");
        Reply spa = login("spa", "max");
        String family = familyOf(shortLived);

        rows.awaitPurged(family, "ENDED", PURGED); // past refresh.guard.max.seconds=3
        assertThat(rows.state(familyOf(spa))).contains("ACTIVE");
        assertThat(realm.spa().refresh(spa.text("refresh_token")).status()).isEqualTo(200);
    }

    @Test
    void aRevokedFamilyIsKeptForTheForensicRetentionThenDeleted() {
        realm.addUser("rex");
        Reply revokedLogin = login("spa", "rex");
        Reply endedLogin = login("spa", "rex");
        String revoked = familyOf(revokedLogin);
        String ended = familyOf(endedLogin);
        realm.admin.ok("POST", "/" + realm.name + "/refresh-guard/families/" + revoked + "/revoke", null);
        assertThat(rows.state(revoked)).as("the family an admin just revoked").contains("REVOKED");
        long revokedAt = listed("rex", revoked).get("revokedAt").asLong();
        Reply logout = new Http().postForm(server.baseUrl() + "/realms/" + realm.name + "/protocol/openid-connect/logout",
                Map.of("client_id", "spa", "refresh_token", endedLogin.text("refresh_token")));
        assertThat(logout.status()).isEqualTo(204);

        // Stopped at the same moment: the ended one goes after 3 s, the revoked one stays for incident responders.
        rows.awaitPurged(ended, "ENDED", PURGED);
        awaitPasses(1);
        if (Instant.now().getEpochSecond() < revokedAt + REVOKED_RETENTION) {
            assertThat(rows.state(revoked)).as("revoked family within its forensic retention").contains("REVOKED");
            assertThat(listed("rex", revoked).get("revokedReason").asText()).isEqualTo("admin");
        }
        Await.until(PURGED, "the revoked family to be deleted after the forensic retention", () -> !rows.exists(revoked));
        assertThat(Instant.now().getEpochSecond()).isGreaterThanOrEqualTo(revokedAt + REVOKED_RETENTION);

        // A token of a purged family is refused, as one of a revoked family.
        Reply refused = realm.spa().refresh(revokedLogin.text("refresh_token"));
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.text("error")).isEqualTo("invalid_grant");
    }

    @Test
    void aSealedGraceSuccessorIsGoneOnceTheWindowHasPassed() {
        realm.addUser("gus");
        Reply login = login("api", "gus");
        String family = familyOf(login);
        assertThat(rows.successor(family)).as("nothing is sealed before the first rotation").contains("");
        Reply rotated = realm.oidc("api").refresh(login.text("refresh_token"));
        assertThat(rotated.status()).as("%s", rotated).isEqualTo(200);
        assertThat(rows.successor(family).orElseThrow()).as("sealed for the 1 s grace window").isNotEmpty();

        Await.until(PURGED, "the sealed successor to be cleared after its window", () -> rows.successor(family).orElseThrow().isEmpty());
        assertThat(rows.state(family)).contains("ACTIVE");
        // The family lives on: the successor itself is the newest token and rotates.
        Reply next = realm.oidc("api").refresh(rotated.text("refresh_token"));
        assertThat(next.status()).as("%s", next).isEqualTo(200);
        // Using the successor replaced what was sealed for it by the next successor's seal.
        assertThat(rows.successor(family).orElseThrow()).isNotEmpty();
    }

    @Test
    void purgedFamiliesAreCountedAndEveryCounterHasADescription() {
        realm.addUser("mia");
        // Reuse (reuse + family revoked counters), a grace replay, then a logout for the purge counter.
        Reply reused = login("spa", "mia");
        assertThat(realm.spa().refresh(reused.text("refresh_token")).status()).isEqualTo(200);
        Oidc.expectReuseDetected(realm.spa().refresh(reused.text("refresh_token")));
        Reply graceful = login("api", "mia");
        Reply once = realm.oidc("api").refresh(graceful.text("refresh_token"));
        Reply replay = realm.oidc("api").refresh(graceful.text("refresh_token"));
        assertThat(replay.text("refresh_token")).isEqualTo(once.text("refresh_token"));
        Reply loggedOut = login("spa", "mia");
        // Absent before: this realm's counter never counted (a counter is registered at its first increment).
        OptionalDouble before = purgedCounter();
        new Http().postForm(server.baseUrl() + "/realms/" + realm.name + "/protocol/openid-connect/logout",
                Map.of("client_id", "spa", "refresh_token", loggedOut.text("refresh_token")));
        String family = familyOf(loggedOut);
        rows.awaitPurged(family, "ENDED", PURGED);
        // At least one more: the same pass may purge other families of the realm whose time has come.
        Await.until(PURGED, "the purge counter to count it",
                () -> purgedCounter().isPresent() && purgedCounter().getAsDouble() >= before.orElse(0) + 1);

        String metrics = new Http().get(server.managementUrl() + "/metrics", null).body();
        List<String> ours = metrics.lines().filter(l -> l.contains("refresh_guard_")).toList();
        for (String counter : List.of("refresh_guard_reuse", "refresh_guard_grace_replay", "refresh_guard_family_revoked",
                "refresh_guard_families_purged")) {
            // Text format 0.0.4 names the HELP line after the sample (…_total), OpenMetrics after the family.
            assertThat(ours.stream().filter(l -> l.startsWith("# HELP " + counter + "_total ") || l.startsWith("# HELP " + counter + " "))
                    .findFirst()).as("# HELP of %s in %s", counter, ours).hasValueSatisfying(help ->
                            assertThat(help.substring(help.indexOf(' ', "# HELP ".length())).trim()).hasSizeGreaterThan(20));
            assertThat(ours).as("samples of %s", counter).anyMatch(l -> l.startsWith(counter + "_total{"));
        }
    }

    @Test
    void theOptionsAreInTheServerInfo() {
        JsonNode info = realm.admin.admin("GET", "/serverinfo", null).json()
                .path("providers").path("refresh-guard").path("providers").path("refresh-guard").path("operationalInfo");
        assertThat(info.path("purge-interval").asText()).isEqualTo(Integer.toString(INTERVAL));
        assertThat(info.path("retention").asText()).isEqualTo(Integer.toString(RETENTION));
        assertThat(info.path("revoked-retention").asText()).isEqualTo(Integer.toString(REVOKED_RETENTION));
        assertThat(info.path("purge-batch-size").asText()).isEqualTo("2");
        assertThat(info.path("purge-pause").asText()).as("the default pause").isEqualTo("100");
        assertThat(info.path("version").asText()).isNotBlank();
    }

    /** refresh_guard_families_purged_total of this realm; empty when there is no such series (never read as 0). */
    private OptionalDouble purgedCounter() {
        Reply metrics = new Http().get(server.managementUrl() + "/metrics", null);
        assertThat(metrics.status()).as("GET /metrics").isEqualTo(200);
        List<Double> samples = metrics.body().lines().filter(l -> l.startsWith("refresh_guard_families_purged_total{")
                        && l.contains("realm=\"" + realm.name + "\""))
                .map(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).toList();
        assertThat(samples).as("series of realm %s", realm.name).hasSizeLessThanOrEqualTo(1);
        return samples.isEmpty() ? OptionalDouble.empty() : OptionalDouble.of(samples.get(0));
    }
}
