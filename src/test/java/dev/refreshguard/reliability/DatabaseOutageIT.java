package dev.refreshguard.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.Admin;
import dev.refreshguard.harness.Database;
import dev.refreshguard.harness.DistributionServer;
import dev.refreshguard.harness.FaultProxy;
import dev.refreshguard.harness.RealServer;

/**
 * The database goes away in the middle of a refresh storm: a Keycloak of its own reaches its database only through a
 * {@link FaultProxy}, which cuts every connection and refuses new ones for {@link #OUTAGE}; the
 * {@link DatabaseFaultDrill} proves the rest (nothing served while down, bounded answers, recovery, families kept,
 * pre-fault token still reuse, no stack trace of ours). Also: the {@code lock-timeout} server option shows in the
 * server info. PostgreSQL, and MariaDB with {@code -Dit.db=mariadb}.
 */
@ExtendWith(RealServer.class) // for its skip when the run's database is absent; this class starts its own server
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DatabaseOutageIT {

    private static final Duration OUTAGE = Duration.ofSeconds(8);

    private FaultProxy proxy;
    private DistributionServer server;
    private DatabaseFaultDrill drill;

    @BeforeAll
    void serverBehindTheProxy() {
        proxy = FaultProxy.to(Database.selected().address());
        String database = "rg_faults_" + System.currentTimeMillis();
        server = DistributionServer.startFromCopy("faults", database, List.of(
                "--db-url=" + Database.selected().keycloakUrlThrough(database, proxy.address()),
                DatabaseFaultDrill.LOCK_TIMEOUT_OPTION), Map.of());
        drill = new DatabaseFaultDrill(server, "outage");
    }

    @AfterAll
    void stop() {
        if (proxy != null) {
            proxy.refuse(false);
        }
        if (server != null) {
            server.close();
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void theLockTimeoutOptionShowsInTheServerInfo() {
        JsonNode info = new Admin(server).admin("GET", "/serverinfo", null).json()
                .path("providers").path("refresh-guard").path("providers").path("refresh-guard").path("operationalInfo");
        assertThat(info.path("lock-timeout").asText()).as("server info: %s", info)
                .isEqualTo(String.valueOf(DatabaseFaultDrill.LOCK_TIMEOUT));
    }

    @Test
    void databaseCutMidStormFailsClosedAndRecovers() {
        drill.run("DatabaseOutageIT", Database.selected().kind(), OUTAGE, new DatabaseFaultDrill.Fault() {
            @Override
            public void begin() {
                proxy.refuse(true);
                proxy.cut();
            }

            @Override
            public void end() {
                proxy.refuse(false);
            }
        }, outageMillis -> "Database cut and refused for " + OUTAGE.toSeconds() + " s mid-storm");
    }
}
