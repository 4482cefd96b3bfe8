package dev.refreshguard.container;

import static dev.refreshguard.harness.Oidc.expectFamilyRevokedAfterReuse;
import static dev.refreshguard.harness.Oidc.expectReuseDetected;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.ComposeStack;
import dev.refreshguard.harness.ContainerLeg;
import dev.refreshguard.harness.ContainerNode;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.ServerLog;
import dev.refreshguard.harness.TestRealm;

/**
 * docker/compose.yaml's two nodes on one PostgreSQL: one family ledger for both (a token refreshed on node 1 and
 * replayed on node 2 is reuse), one purge pass per interval for the cluster, not one per node.
 */
@ExtendWith(ContainerLeg.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ComposeClusterIT {

    private static final String PASS_LINE = "refresh-guard family purge: ";
    private static final int WINDOW = 24;

    private ContainerNode node1;
    private ContainerNode node2;

    @BeforeAll
    void stack(ComposeStack stack) {
        node1 = stack.node(1);
        node2 = stack.node(2);
    }

    @Test
    void aTokenRefreshedOnNodeOneAndReplayedOnNodeTwoIsReuse() {
        TestRealm realm = TestRealm.guarded(node1, "compose", Map.of());
        Oidc spaOn1 = new Oidc(node1, realm.name, "spa", null);
        Oidc spaOn2 = new Oidc(node2, realm.name, "spa", null);
        Reply login = spaOn1.password("alice", "alice");
        assertThat(login.status()).as("login on node 1: %s", login).isEqualTo(200);
        String r0 = login.text("refresh_token");
        Reply first = spaOn1.refresh(r0);
        assertThat(first.status()).as("refresh on node 1: %s", first).isEqualTo(200);

        expectReuseDetected(spaOn2.refresh(r0));
        expectFamilyRevokedAfterReuse(spaOn1.refresh(first.text("refresh_token")));
    }

    @Test
    void theClusterRunsOnePurgePassPerInterval() {
        int[] before = {passes(node1.logFile()), passes(node2.logFile())};
        long start = Instant.now().getEpochSecond();
        Await.until(Duration.ofSeconds(WINDOW + 30), WINDOW + " s to pass", () -> Instant.now().getEpochSecond() >= start + WINDOW);
        int[] after = {passes(node1.logFile()), passes(node2.logFile())};
        int total = after[0] - before[0] + after[1] - before[1];
        // Each node's timer fires about WINDOW / interval = 8 times: one pass per interval is 8 (± timer drift), one
        // per node would be 16.
        int intervals = WINDOW / ComposeStack.PURGE_INTERVAL;
        assertThat(total).as("passes in %d s on both nodes together (node 1: %d, node 2: %d)", WINDOW,
                after[0] - before[0], after[1] - before[1]).isBetween(intervals - 3, intervals + 2);
    }

    private static int passes(Path log) {
        return new ServerLog(log).lines(l -> l.contains(PASS_LINE)).size();
    }
}
