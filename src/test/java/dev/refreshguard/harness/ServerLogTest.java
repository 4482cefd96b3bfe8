package dev.refreshguard.harness;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The harness's reading of Keycloak's 500s: what a failing test prints instead of "see the server log". */
class ServerLogTest {

    @Test
    void eachUncaughtServerErrorComesWithTheDeepestCauseOfItsStackTrace(@TempDir Path dir) throws IOException {
        Path log = dir.resolve("node.log");
        Files.writeString(log, String.join("\n",
                "2026-12-01 19:04:43,170 INFO  [org.keycloak] (main) started",
                "2026-12-01 19:04:43,177 ERROR [org.keycloak.services.error.KeycloakErrorHandler] (executor-thread-16) "
                        + "Uncaught server error: org.keycloak.models.ModelException: Database operation failed",
                "\tat org.keycloak.Some.method(Some.java:1)",
                "Caused by: org.hibernate.exception.JDBCConnectionException: Unable to acquire JDBC Connection",
                "\tat org.hibernate.Other.method(Other.java:2)",
                "Caused by: org.postgresql.util.PSQLException: FATAL: sorry, too many clients already",
                "\t... 40 more",
                "2026-12-01 19:04:44,000 WARN  [org.keycloak.events] (executor-thread-2) type=\"REFRESH_TOKEN_ERROR\"",
                "2026-12-01 19:04:45,073 ERROR [org.keycloak.services.error.KeycloakErrorHandler] (executor-thread-11) "
                        + "Uncaught server error: java.lang.NullPointerException"));

        assertThat(new ServerLog(log).uncaughtErrors()).containsExactly(
                "2026-12-01 19:04:43,177 ERROR [org.keycloak.services.error.KeycloakErrorHandler] (executor-thread-16) "
                        + "Uncaught server error: org.keycloak.models.ModelException: Database operation failed"
                        + " <- Caused by: org.postgresql.util.PSQLException: FATAL: sorry, too many clients already",
                "2026-12-01 19:04:45,073 ERROR [org.keycloak.services.error.KeycloakErrorHandler] (executor-thread-11) "
                        + "Uncaught server error: java.lang.NullPointerException");
    }

    @Test
    void ourStackTracesAreOursWithATraceOrUncaughtThroughTheStoreNeverAPoolsWarning(@TempDir Path dir) throws IOException {
        Path log = dir.resolve("node.log");
        String ownWithTrace = "2026-12-01 19:04:43,200 WARN  [dev.refreshguard.store.StoreFailure] (executor-thread-1) the database could not be reached";
        String uncaughtThroughStore = "2026-12-01 19:04:43,300 ERROR [org.keycloak.services.error.KeycloakErrorHandler] (executor-thread-2) "
                + "Uncaught server error: jakarta.persistence.PersistenceException";
        Files.writeString(log, String.join("\n",
                "2026-12-01 19:04:43,100 WARN  [dev.refreshguard.store.StoreFailure] (executor-thread-9) before the fault",
                "\tat dev.refreshguard.store.FamilyLedger.rotate(FamilyLedger.java:1)",
                "2026-12-01 19:04:43,150 WARN  [dev.refreshguard.spi.LedgerUnavailable] (executor-thread-3) answered 503 temporarily_unavailable",
                ownWithTrace,
                "\tat dev.refreshguard.store.FamilyLedger.rotate(FamilyLedger.java:1)",
                "2026-12-01 19:04:43,250 WARN  [io.agroal.pool] (agroal-11) Datasource '<default>': connection reset",
                "\tat org.postgresql.core.PGStream.receive(PGStream.java:1)",
                uncaughtThroughStore,
                "\tat org.hibernate.Some.method(Some.java:1)",
                "\tat dev.refreshguard.store.FamilyLedger.start(FamilyLedger.java:2)",
                "2026-12-01 19:04:43,400 ERROR [org.keycloak.services.error.KeycloakErrorHandler] (executor-thread-4) "
                        + "Uncaught server error: java.lang.IllegalStateException",
                "\tat org.keycloak.Other.method(Other.java:3)"));

        // From line 2 on: the first entry (before the fault) is not read.
        assertThat(new ServerLog(log).stackTracesOfOurs(2)).containsExactly(ownWithTrace, uncaughtThroughStore);
        assertThat(new ServerLog(log).entries(2)).hasSize(5).first().asList().hasSize(1);
    }

    @Test
    void aLogWithoutUncaughtErrorsHasNone(@TempDir Path dir) throws IOException {
        Path log = dir.resolve("node.log");
        Files.writeString(log, "2026-12-01 19:04:43,170 ERROR [org.jgroups.protocols.TCP] (main) failed sending graceful close\n");
        assertThat(new ServerLog(log).uncaughtErrors()).isEmpty();
    }
}
