package dev.refreshguard.family;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.DatabaseCondition;
import dev.refreshguard.harness.Cluster;
import dev.refreshguard.harness.Ledger;
import dev.refreshguard.harness.ServerLog;

/**
 * A purge pass longer than several intervals, on a two-node cluster: while it runs, no node starts another (each
 * interval Keycloak's cluster-aware runner lets one node's timer in, and the running pass keeps renewing its claim
 * in RG_SCHEDULE against the other's); when the running node dies mid-pass, its claim lapses and the other node
 * takes over and finishes the work. Stopped gracefully mid-pass, a node does not report the cut-short pass as failed.
 */
@ExtendWith(DatabaseCondition.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PurgeTakeoverIT {

    private static final int INTERVAL = 4;
    private static final int BACKLOG = 4000;
    private static final String OPTION = "--spi-refresh-guard--refresh-guard--";
    private static final String PASS_LINE = "refresh-guard family purge: ";
    /** The running node's own timer, firing while its pass is still at work (DEBUG). */
    private static final String STILL_RUNNING = "the previous pass on this node is still running";
    /** Another node's timer, finding the interval claimed (DEBUG). */
    private static final String CLAIMED_ELSEWHERE = "ran on another node";

    private Cluster cluster;

    @BeforeAll
    void start() {
        // Small batches, each followed by a pause ten times its own length: a pass over the backlog takes many intervals.
        cluster = Cluster.start(2, List.of(OPTION + "purge-interval=" + INTERVAL, OPTION + "retention=1",
                OPTION + "purge-batch-size=20", OPTION + "purge-pause=1000",
                "--log-level=INFO,dev.refreshguard.family.FamilyPurgeTask:debug"));
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aLongPassHoldsItsClaimAndAnotherNodeFinishesItWhenItsNodeDies() {
        Ledger ledger = Ledger.of(cluster.jdbcUrl());
        seed(ledger, "takeover-", BACKLOG);
        String backlog = "ID LIKE 'takeover-%'";

        Cluster.Node[] runner = new Cluster.Node[1];
        Await.until(Duration.ofSeconds(90), "one node to be running a pass over the backlog", () -> {
            for (Cluster.Node node : cluster.nodes()) {
                if (count(node.logFile(), STILL_RUNNING) > 0) {
                    runner[0] = node;
                    return true;
                }
            }
            return false;
        });
        Cluster.Node running = runner[0];
        Cluster.Node other = cluster.nodes().stream().filter(n -> n != running).findFirst().orElseThrow();
        // Passes over an empty ledger may have ended before the seed; from here on, none may end until the kill.
        int runnerPasses = count(running.logFile(), PASS_LINE);
        int otherPasses = count(other.logFile(), PASS_LINE);
        int refusals = count(other.logFile(), CLAIMED_ELSEWHERE);

        // Three more of its own ticks: the pass has outlived its claim's slack (3/4 interval) several times over.
        int ticks = count(running.logFile(), STILL_RUNNING);
        Await.until(Duration.ofSeconds(60), "the pass to outlive three more intervals",
                () -> count(running.logFile(), STILL_RUNNING) >= ticks + 3);
        long left = ledger.count(backlog);
        assertThat(left).as("backlog rows left while the pass runs").isBetween(1L, BACKLOG - 1L);
        assertThat(count(other.logFile(), PASS_LINE)).as("passes the other node ran meanwhile").isEqualTo(otherPasses);
        assertThat(count(running.logFile(), PASS_LINE)).as("passes ended on the running node").isEqualTo(runnerPasses);
        // The other node's timer came in meanwhile and found the interval claimed: the claim is renewed by the pass.
        assertThat(count(other.logFile(), CLAIMED_ELSEWHERE)).as("claims the other node found taken").isGreaterThan(refusals);

        running.kill();
        long leftAtKill = ledger.count(backlog);
        assertThat(leftAtKill).as("backlog rows left when the running node died").isPositive();

        Await.until(Duration.ofSeconds(180), "the surviving node to finish the backlog", () -> ledger.count(backlog) == 0);
        Await.until(Duration.ofSeconds(30), "the surviving node to log its pass",
                () -> count(other.logFile(), PASS_LINE) > otherPasses);

        // An operator stops the surviving node while it is at work on a new backlog: a pass cut short by the server's
        // shutdown is not a failure to warn of, and the rows it did not reach stay for the next pass.
        seed(ledger, "shutdown-", BACKLOG);
        int ticksBefore = count(other.logFile(), STILL_RUNNING);
        Await.until(Duration.ofSeconds(90), "the surviving node to be running a pass over the new backlog",
                () -> count(other.logFile(), STILL_RUNNING) > ticksBefore);
        other.stop();
        assertThat(count(other.logFile(), "family purge pass stopped by the server's shutdown"))
                .as("lines saying the pass was stopped by the shutdown, on the node stopped mid-pass").isEqualTo(1);
        assertThat(count(other.logFile(), "purge pass failed")).as("warnings of a failed pass on that node").isZero();
        assertThat(ledger.count("ID LIKE 'shutdown-%'")).as("new backlog rows left after the stop").isBetween(1L, BACKLOG - 1L);
    }

    /** {@code rows} families of a session that ended ten minutes ago, each eligible for the purge. */
    private static void seed(Ledger ledger, String idPrefix, int rows) {
        long endedLongAgo = Instant.now().getEpochSecond() - 600;
        List<Object[]> values = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            values.add(new Object[] {idPrefix + i, endedLongAgo, endedLongAgo, endedLongAgo});
        }
        ledger.update("INSERT INTO RG_FAMILY (ID, REALM_ID, CLIENT_ID, USER_ID, SESSION_ID, OFFLINE, PARENT_ID, GENERATION,"
                + " CREATED_AT, ROTATED_AT, ROTATED_BY_IP, STATE, STOPPED_AT)"
                + " VALUES (?, 'takeover-realm', 'takeover-client', 'takeover-user', 'takeover-session', FALSE, '', 3, ?, ?,"
                + " '127.0.0.1', 'ENDED', ?)", values);
    }

    private static int count(Path log, String text) {
        return new ServerLog(log).lines(l -> l.contains(text)).size();
    }
}
