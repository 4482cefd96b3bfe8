package dev.refreshguard.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import dev.refreshguard.harness.Admin;
import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.Cluster;
import dev.refreshguard.harness.Cluster.Node;
import dev.refreshguard.harness.FamilyEvents;
import dev.refreshguard.harness.Figures;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.Racers;
import dev.refreshguard.harness.ServerLog;
import dev.refreshguard.harness.TestRealm;
import dev.refreshguard.harness.Witness;

/**
 * Two production-mode nodes (kc.sh start, PostgreSQL, Keycloak's default distributed caches, JDBC ping discovery)
 * sharing one database: detection and revocation hold whichever node a token reaches, under a race, and across a
 * stop and start of every node. The cluster starts once for the class; the restart test runs last and re-checks
 * everything the earlier tests revoked.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {

    private static final int RACERS = 50;
    private static final Duration RACE_TIMEOUT = Duration.ofMinutes(3);
    private static final String GRACE_SECONDS = "60";

    private final Witness witness = new Witness();
    /** Tokens a test proved refused because their family was revoked: each must still be refused after the restart. */
    private final Map<String, Spent> revoked = new LinkedHashMap<>();

    /** A refused token's client, and the exact error_description its refusal carries. */
    private record Spent(String client, String description) {
    }
    /** Tokens of live families: each must still work after the restart. */
    private final Map<String, String> live = new LinkedHashMap<>();
    private Cluster cluster;
    private Node n1;
    private Node n2;
    private TestRealm realm;
    /** Requests whose answer a test asserted, racers not included (they have their own figure). */
    private int checks;
    private int racersRun;
    private int raceFiveXx;
    private String graceZeroOutcome = "not run";
    private String graceOutcome = "not run";
    private String restartOutcome = "not run";

    @BeforeAll
    void twoNodes() {
        assumeTrue(System.getProperty("keycloak.home") != null && Files.isDirectory(Path.of(System.getProperty("keycloak.home"))),
                "ClusterIT skipped: no unpacked Keycloak distribution (run with `mvn verify`)");
        cluster = Cluster.start(2);
        n1 = cluster.node(1);
        n2 = cluster.node(2);
        realm = TestRealm.guarded(n1, "cluster", Map.of());
        realm.addPublicClient("graced");
        realm.clientAttributes("graced", Map.of("refresh.guard.grace.seconds", GRACE_SECONDS));
    }

    @Test
    @Order(1)
    void rotationOnOneNodeThenReuseOnTheOtherIsCaught() {
        String r0 = ok(on(n1, "spa").password("alice", "alice")).text("refresh_token");
        String r1 = ok(on(n1, "spa").refresh(r0)).text("refresh_token");
        String family = family(r0);

        // reuse on node 2 of a token rotated on node 1
        Oidc.expectReuseDetected(check(on(n2, "spa").refresh(r0)));
        JsonNode event = awaitEvent(n2, "refresh_token_reused", family);
        assertThat(event.path("details").path("generation").asText()).isEqualTo("0");
        assertThat(event.path("details").path("latest_generation").asText()).isEqualTo("1");

        // Node 2 revoked the family; node 1 refuses its newest token on the very next request.
        Oidc.expectFamilyRevokedAfterReuse(check(on(n1, "spa").refresh(r1)));
        awaitEvent(n1, "refresh_token_family_revoked", family);
        revoked.put(r1, new Spent("spa", Oidc.FAMILY_REVOKED_AFTER_REUSE));
    }

    @Test
    @Order(2)
    void revocationAtTheRevocationEndpointOfOneNodeIsSeenByTheOther() {
        Reply login = ok(on(n2, "api").password("bob", "bob"));
        Reply rotated = ok(on(n2, "api").refresh(login.text("refresh_token")));
        String r1 = rotated.text("refresh_token");
        String family = family(r1);
        assertThat(check(on(n2, "api").introspect(rotated.text("access_token"))).json().path("active").asBoolean())
                .as("access token live before the revocation").isTrue();

        Reply revoke = check(on(n1, "api").revoke(r1, "refresh_token"));
        assertThat(revoke.status()).as("RFC 7009 revocation on node 1: %s", revoke).isEqualTo(200);

        // refresh on node 2 after the revocation on node 1: revoked, and not by a reuse
        Oidc.expectFamilyRevoked(check(on(n2, "api").refresh(r1)));
        awaitEvent(n2, "refresh_token_family_revoked", family);
        Reply introspection = check(on(n2, "api").introspect(rotated.text("access_token")));
        assertThat(introspection.status()).isEqualTo(200);
        assertThat(introspection.json().path("active").asBoolean()).as("access token of the revoked family, node 2").isFalse();
        assertThat(check(on(n2, "api").userinfo(rotated.text("access_token"))).status()).isEqualTo(401);
        revoked.put(r1, new Spent("api", Oidc.FAMILY_REVOKED));
    }

    @Test
    @Order(2)
    void aTokenFromBeforeProtectionIsAdoptedOnceWhicheverNodeItReaches() {
        TestRealm live = TestRealm.stock(n1, "cluster-adopt");
        Oidc spaOn1 = new Oidc(n1, live.name, "spa", null);
        Oidc spaOn2 = new Oidc(n2, live.name, "spa", null);
        String old = ok(spaOn1.password("alice", "alice")).text("refresh_token");
        String raced = ok(spaOn2.password("bob", "bob")).text("refresh_token");
        live.admin.ok("PUT", "/" + live.name + "/events/config", Map.of("eventsEnabled", true,
                "eventsListeners", List.of("jboss-logging", "refresh-guard"), "enabledEventTypes", TestRealm.SAVED_EVENTS));
        Admin adminOn2 = new Admin(n2);
        Await.until(Duration.ofSeconds(30), "node 2 sees the realm protected", () -> adminOn2
                .ok("GET", "/" + live.name + "/events/config", null).json().path("eventsListeners").toString().contains("refresh-guard"));

        Reply adopted = check(spaOn1.refresh(old));
        assertThat(adopted.status()).as("adoption on node 1: %s", adopted).isEqualTo(200);
        // replay on node 2 of a token adopted on node 1
        Oidc.expectReuseDetected(check(spaOn2.refresh(old)));

        List<Reply> replies = Racers.race(RACERS, RACE_TIMEOUT, i -> (i % 2 == 0 ? spaOn1 : spaOn2).refresh(raced));
        racersRun += RACERS;
        replies.forEach(witness::saw);
        assertThat(replies.stream().filter(r -> r.status() == 200)).as("first presentations of one old token on both nodes").hasSize(1);
        // A loser whose look at the ledger came before the winner's adoption was committed finds no family, and the
        // client session already stamped with the winner's newer token: it is refused as stale. Every later loser
        // is the one reuse (which revokes the family) or a token of the family revoked after it.
        List<Reply> losers = replies.stream().filter(r -> r.status() != 200).toList();
        List<String> outcomes = List.of(Oidc.REUSE_DETECTED, Oidc.FAMILY_REVOKED_AFTER_REUSE, Oidc.STALE);
        assertThat(losers).as("every loser: 400 invalid_grant, reuse detected, revoked after reuse or stale").allSatisfy(r ->
                Oidc.expectInvalidGrant(r, outcomes.stream().filter(d -> d.equals(r.text("error_description"))).findFirst()
                        .orElse(outcomes.toString())));
        long detected = losers.stream().filter(r -> Oidc.REUSE_DETECTED.equals(r.text("error_description"))).count();
        long revokedAfter = losers.stream().filter(r -> Oidc.FAMILY_REVOKED_AFTER_REUSE.equals(r.text("error_description"))).count();
        assertThat(detected).as("losers told reuse detected").isLessThanOrEqualTo(1);
        assertThat(revokedAfter == 0 || detected == 1).as("revoked after reuse (%s losers) only after the one reuse", revokedAfter).isTrue();
    }

    @Test
    @Order(3)
    void fiftyRacersOnBothNodesWithOneTokenAtGraceZeroMakeExactlyOneWinner() {
        String r0 = ok(on(n1, "spa").password("bob", "bob")).text("refresh_token");
        List<Reply> replies = race("spa", r0);

        List<Reply> winners = replies.stream().filter(r -> r.status() == 200).toList();
        List<Reply> losers = replies.stream().filter(r -> r.status() != 200).toList();
        graceZeroOutcome = winners.size() + " of " + RACERS + " succeeded";
        assertThat(replies).as(() -> "no racer got a 5xx (the nodes logged: " + ServerLog.uncaughtErrors(cluster.logFiles()) + ")")
                .noneMatch(r -> r.status() >= 500);
        assertThat(winners).as("winners at grace 0").hasSize(1);
        // The first loser was reuse and revoked the family: every later loser, and the winner's successor, is refused
        // as a token of a family revoked after reuse.
        Oidc.expectOneReuseThenRevoked(losers);
        String successor = winners.get(0).text("refresh_token");
        Oidc.expectFamilyRevokedAfterReuse(check(on(n2, "spa").refresh(successor)));
        revoked.put(successor, new Spent("spa", Oidc.FAMILY_REVOKED_AFTER_REUSE));
    }

    @Test
    @Order(4)
    void fiftyRacersOnBothNodesWithGraceShareOneSuccessor() {
        String r0 = ok(on(n2, "graced").password("alice", "alice")).text("refresh_token");
        List<Reply> replies = race("graced", r0);

        Set<String> successors = replies.stream().map(r -> r.text("refresh_token")).collect(Collectors.toSet());
        graceOutcome = replies.stream().filter(r -> r.status() == 200).count() + " of " + RACERS + " succeeded, "
                + successors.size() + " distinct successor(s)";
        assertThat(replies).as("every racer inside the grace window: 200").allSatisfy(r ->
                assertThat(r.status()).as("%s", r).isEqualTo(200));
        assertThat(successors).as("one successor, byte for byte").hasSize(1);
        String successor = successors.iterator().next();
        assertThat(Oidc.claims(successor).get("rg_gen").asInt()).isEqualTo(1);

        Reply next = ok(on(n1, "graced").refresh(successor));
        assertThat(Oidc.claims(next.text("refresh_token")).get("rg_gen").asInt()).isEqualTo(2);
        live.put(next.text("refresh_token"), "graced");
    }

    @Test
    @Order(5)
    void everyNodeStopsAndStartsAgainAndFamiliesHold() {
        // Before: A rotated once, B revoked by a reuse, C live and never refreshed.
        String a0 = ok(on(n1, "spa").password("alice", "alice")).text("refresh_token");
        String a1 = ok(on(n1, "spa").refresh(a0)).text("refresh_token");
        String aFamily = family(a0);
        String b0 = ok(on(n2, "other").password("alice", "alice")).text("refresh_token");
        String b1 = ok(on(n2, "other").refresh(b0)).text("refresh_token");
        Oidc.expectReuseDetected(check(on(n1, "other").refresh(b0)));
        revoked.put(b1, new Spent("other", Oidc.FAMILY_REVOKED_AFTER_REUSE));
        String c0 = ok(on(n2, "api").password("alice", "alice")).text("refresh_token");
        live.put(c0, "api");
        long restartedAt = System.currentTimeMillis();

        cluster.restartAll();

        // reuse of a token spent before the restart
        Oidc.expectReuseDetected(check(on(n2, "spa").refresh(a0)));
        JsonNode event = awaitEvent(n1, "refresh_token_reused", aFamily);
        assertThat(event.path("time").asLong()).isGreaterThanOrEqualTo(restartedAt);
        revoked.put(a1, new Spent("spa", Oidc.FAMILY_REVOKED_AFTER_REUSE));

        int held = 0;
        int i = 0;
        for (Map.Entry<String, Spent> token : revoked.entrySet()) {
            Node node = i++ % 2 == 0 ? n1 : n2;
            Reply reply = check(on(node, token.getValue().client()).refresh(token.getKey()));
            assertThat(reply.status()).as("revoked token (client %s) on %s after the restart: %s", token.getValue().client(), node, reply)
                    .isEqualTo(400);
            Oidc.expectInvalidGrant(reply, token.getValue().description());
            held++;
        }
        int working = 0;
        for (Map.Entry<String, String> token : live.entrySet()) {
            Node node = i++ % 2 == 0 ? n1 : n2;
            Reply reply = check(on(node, token.getValue()).refresh(token.getKey()));
            assertThat(reply.status()).as("live token (client %s) on %s after the restart: %s", token.getValue(), node, reply)
                    .isEqualTo(200);
            working++;
        }
        restartOutcome = held + "/" + revoked.size() + " revoked families stayed revoked, " + working + "/" + live.size()
                + " live families kept working, reuse of a pre-restart token caught";
    }

    @AfterAll
    void figuresLogsAndStop() {
        if (cluster == null) {
            return;
        }
        try {
            Witness.Leaks leaks = witness.leaksIn(cluster.logFiles());
            Map<String, Object> details = witness.figures(leaks);
            details.put("restart", restartOutcome);
            Figures.record("cluster", new Figures.Row("Two-node cluster, cross-node reuse and revocation, full restart (ClusterIT)",
                    checks, 0, cluster.size(), cluster.fullRestarts(), witness.fiveXx(),
                    "no: " + restartOutcome, details));
            Map<String, Object> race = new LinkedHashMap<>();
            race.put("graceZero", graceZeroOutcome);
            race.put("grace" + GRACE_SECONDS + "s", graceOutcome);
            Figures.record("races", new Figures.Row("One token, " + RACERS + " racers split over 2 nodes, grace 0 and grace "
                    + GRACE_SECONDS + " s (ClusterIT)", 2, racersRun, cluster.size(), 0, raceFiveXx,
                    "grace 0: " + graceZeroOutcome + "; grace " + GRACE_SECONDS + " s: " + graceOutcome, race));
            witness.assertNoFiveXxAndNoLeaks(leaks);
        } finally {
            cluster.close();
        }
    }

    private List<Reply> race(String clientId, String token) {
        Oidc one = on(n1, clientId);
        Oidc two = on(n2, clientId);
        List<Reply> replies = Racers.race(RACERS, RACE_TIMEOUT, i -> (i % 2 == 0 ? one : two).refresh(token));
        racersRun += RACERS;
        for (Reply reply : replies) {
            witness.saw(reply);
            if (reply.status() >= 500) {
                raceFiveXx++;
            }
        }
        return replies;
    }

    private Oidc on(Node node, String clientId) {
        return new Oidc(node, realm.name, clientId, clientId.equals("api") ? TestRealm.API_SECRET : null);
    }

    private Reply ok(Reply reply) {
        return witness.ok(reply);
    }

    private Reply check(Reply reply) {
        checks++;
        return witness.saw(reply);
    }

    private static String family(String refreshToken) {
        return Oidc.claims(refreshToken).get("rg_fid").asText();
    }

    /** The REFRESH_TOKEN_ERROR event with this error for this family, read through the given node. */
    private JsonNode awaitEvent(Node node, String error, String familyId) {
        return FamilyEvents.await(new Admin(node), realm.name, error, familyId, 0);
    }
}
