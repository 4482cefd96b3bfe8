package dev.refreshguard.family;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.DatabaseCondition;
import dev.refreshguard.harness.Cluster;
import dev.refreshguard.harness.Http;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.ServerLog;
import dev.refreshguard.harness.TestRealm;

/**
 * Two production-mode nodes sharing one database, each with a purge timer every 3 s: the cluster runs one pass per
 * interval, not one per node, and a pass on either node purges what the other node's users left.
 */
@ExtendWith(DatabaseCondition.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PurgeClusterIT {

    private static final int INTERVAL = 3;
    private static final int WINDOW = 36;
    private static final String OPTION = "--spi-refresh-guard--refresh-guard--";
    private static final String PASS_LINE = "refresh-guard family purge: ";

    private Cluster cluster;

    @BeforeAll
    void start() {
        cluster = Cluster.start(2, List.of(OPTION + "purge-interval=" + INTERVAL, OPTION + "retention=1"));
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static int passes(Path log) {
        return new ServerLog(log).lines(l -> l.contains(PASS_LINE)).size();
    }

    private int passes() {
        return cluster.logFiles().stream().mapToInt(PurgeClusterIT::passes).sum();
    }

    @Test
    void theClusterRunsOnePassPerIntervalAndPurgesForEveryNode() {
        TestRealm realm = TestRealm.guarded(cluster.node(2), "purge-cluster", Map.of());
        Reply login = realm.spa().password("alice", "alice");
        assertThat(login.status()).isEqualTo(200);
        String family = Oidc.claims(login.text("refresh_token")).get("rg_fid").asText();
        Reply logout = new Http().postForm(cluster.node(2).baseUrl() + "/realms/" + realm.name + "/protocol/openid-connect/logout",
                Map.of("client_id", "spa", "refresh_token", login.text("refresh_token")));
        assertThat(logout.status()).isEqualTo(204);
        FamilyRows rows = new FamilyRows(cluster.jdbcUrl());
        rows.awaitPurged(family, "ENDED", Duration.ofSeconds(60));

        int[] before = cluster.logFiles().stream().mapToInt(PurgeClusterIT::passes).toArray();
        long start = Instant.now().getEpochSecond();
        Await.until(Duration.ofSeconds(WINDOW + 30), WINDOW + " s to pass", () -> Instant.now().getEpochSecond() >= start + WINDOW);
        int[] after = cluster.logFiles().stream().mapToInt(PurgeClusterIT::passes).toArray();
        int total = after[0] - before[0] + after[1] - before[1];

        // Each node's timer fired about WINDOW / INTERVAL = 12 times: one pass per interval is 12 (± timer drift), one
        // per node would be 24.
        int intervals = WINDOW / INTERVAL;
        assertThat(total).as("passes in %d s on both nodes together (node 1: %d, node 2: %d)", WINDOW,
                after[0] - before[0], after[1] - before[1]).isBetween(intervals - 3, intervals + 2);
    }
}
