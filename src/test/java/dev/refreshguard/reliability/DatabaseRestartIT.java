package dev.refreshguard.reliability;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.DistributionServer;
import dev.refreshguard.harness.PrivateDatabase;
import dev.refreshguard.harness.RealServer;

/**
 * The database server restarts in the middle of a refresh storm: a Keycloak of its own runs on a database server
 * process of the test's own ({@link PrivateDatabase}, the run's kind; the machine's database serves everyone and is
 * never restarted), and the database server is stopped at once (PostgreSQL {@code pg_ctl -m immediate}, MariaDB
 * SIGKILL: every connection drops, as in a crash or fail-over) and started again after at least {@link #OUTAGE};
 * Keycloak's pool reconnects by itself. The {@link DatabaseFaultDrill} proves the rest, as for
 * {@link DatabaseOutageIT}'s cut. On PostgreSQL this also proves that a rotation answered 200 survives the crash:
 * Keycloak commits a transaction whose only entity writes are sessions and events with {@code synchronous_commit}
 * off, which lost acknowledged rotations until the store required a synchronous commit (docs/reliability.md, "The
 * database server restarts"). {@code -Dit.private-db.log-statements=true} logs every statement the database received;
 * the drill's {@code DIAG} lines, printed when clients are not served again, show each request around the fault and
 * the ledger afterwards.
 */
@ExtendWith(RealServer.class) // for its skip when the run's database is absent; this class starts its own server
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DatabaseRestartIT {

    /** From the stop to the start again; the start's own crash recovery comes on top. */
    private static final Duration OUTAGE = Duration.ofSeconds(6);

    private PrivateDatabase database;
    private DistributionServer server;
    private DatabaseFaultDrill drill;

    @BeforeAll
    void serverOnItsOwnDatabaseServer() {
        database = PrivateDatabase.start();
        server = DistributionServer.startFromCopy("restart", database.database(), "rg_restart_" + System.currentTimeMillis(),
                List.of(DatabaseFaultDrill.LOCK_TIMEOUT_OPTION), Map.of());
        drill = new DatabaseFaultDrill(server, "restart");
    }

    @AfterAll
    void stop() {
        try {
            if (server != null) {
                server.close();
            }
        } finally {
            if (database != null) {
                database.close();
            }
        }
    }

    @Test
    void databaseRestartMidStormFailsClosedAndRecovers() {
        drill.run("DatabaseRestartIT", database.database().kind(), OUTAGE, new DatabaseFaultDrill.Fault() {
            @Override
            public void begin() {
                database.stop();
            }

            @Override
            public void end() {
                database.startAgain(); // returns once the database lets a client log in
            }
        }, outageMillis -> "Database server stopped at once and started again mid-storm (" + outageMillis + " ms down)");
    }
}
