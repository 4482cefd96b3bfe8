package dev.refreshguard.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

/**
 * The ports test servers listen on lie below the kernel's ephemeral range, where no outgoing connection can take
 * one between the probe and the server's bind ("Address already in use", seen in ClusterIT).
 */
class FreePortTest {

    private static final Path RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");

    @Test
    void theEphemeralRangeIsReadAsTheKernelGivesIt() throws Exception {
        assumeTrue(Files.exists(RANGE), "Linux only");
        int low = Integer.parseInt(Files.readAllLines(RANGE).get(0).trim().split("\\s+")[0]);
        assertThat(DistributionServer.ephemeralLow()).isEqualTo(low);
    }

    @Test
    void aFreePortIsBelowTheEphemeralRange() {
        assumeTrue(Files.exists(RANGE) && DistributionServer.ephemeralLow() > 20_000, "a range above the harness's lowest port");
        for (int i = 0; i < 20; i++) {
            assertThat(DistributionServer.freePort()).isBetween(20_000, DistributionServer.ephemeralLow() - 1);
        }
    }
}
