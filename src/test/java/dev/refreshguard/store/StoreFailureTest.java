package dev.refreshguard.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.sql.SQLTimeoutException;

import jakarta.persistence.PersistenceException;

import org.junit.jupiter.api.Test;

/** Which failures are a fault of the environment (503): the lock-wait bound ran out, the database unreachable; others are left as they are. */
class StoreFailureTest {

    @Test
    void theBoundRunningOutOnEitherDatabaseIsRecognisedHoweverWrapped() {
        // pgjdbc's query-timeout cancel; PostgreSQL's own lock_timeout
        assertThat(StoreFailure.of(new PersistenceException(new SQLException("canceling statement due to user request", "57014")))).contains(StoreFailure.LOCK_TIMEOUT);
        assertThat(StoreFailure.of(new SQLException("canceling statement due to lock timeout", "55P03"))).contains(StoreFailure.LOCK_TIMEOUT);
        // MariaDB: max_statement_time (Connector/J's query timeout), innodb_lock_wait_timeout
        assertThat(StoreFailure.of(new RuntimeException(new SQLException("Query execution was interrupted", "70100", 1969)))).contains(StoreFailure.LOCK_TIMEOUT);
        assertThat(StoreFailure.of(new SQLException("Lock wait timeout exceeded", "HY000", 1205))).contains(StoreFailure.LOCK_TIMEOUT);
        assertThat(StoreFailure.of(new SQLTimeoutException("timed out"))).contains(StoreFailure.LOCK_TIMEOUT);
        assertThat(StoreFailure.of(new jakarta.persistence.QueryTimeoutException("timed out"))).contains(StoreFailure.LOCK_TIMEOUT);
    }

    @Test
    void aLostConnectionIsTheDatabaseUnreachable() {
        // pgjdbc: I/O error on a reset socket, a closed connection; MariaDB: the socket closed under the driver
        assertThat(StoreFailure.of(new PersistenceException(new SQLException("An I/O error occurred while sending to the backend", "08006"))))
                .contains(StoreFailure.DATABASE_UNREACHABLE);
        assertThat(StoreFailure.of(new SQLException("This connection has been closed.", "08003"))).contains(StoreFailure.DATABASE_UNREACHABLE);
        assertThat(StoreFailure.of(new java.sql.SQLNonTransientConnectionException("Socket error"))).contains(StoreFailure.DATABASE_UNREACHABLE);
        // the pool could not hand out a live connection: Agroal's "Failed to enlist", without an SQL state
        assertThat(StoreFailure.of(new StoreFailure.NoConnection(new RuntimeException("Database operation failed",
                new java.sql.SQLException("Failed to enlist."))))).contains(StoreFailure.DATABASE_UNREACHABLE);
        // the same failure when Hibernate acquires the connection for a query (seen as an admin revoke's 500 on MariaDB)
        assertThat(StoreFailure.of(new jakarta.persistence.PersistenceException("Unable to acquire JDBC Connection",
                new SQLException("Exception in association of connection to existing transaction",
                        new SQLException("Failed to enlist. Check if a connection from another datasource is already enlisted")))))
                .contains(StoreFailure.DATABASE_UNREACHABLE);
        // as Keycloak's EntityManagerProxy reports it: "Database operation failed", caused by the socket's exception
        assertThat(StoreFailure.of(new RuntimeException("Database operation failed", new java.net.SocketException("Connection reset by peer"))))
                .contains(StoreFailure.DATABASE_UNREACHABLE);
    }

    @Test
    void otherFailuresAreLeftAsTheyAre() {
        assertThat(StoreFailure.of(new PersistenceException(new SQLException("duplicate key", "23505")))).isEmpty();
        assertThat(StoreFailure.of(new IllegalStateException("no cause"))).isEmpty();
        // a driver's exception without an SQL state (MariaDB Connector/J, for some failures) is no fault of ours either
        assertThat(StoreFailure.of(new RuntimeException(new java.sql.SQLException("no state")))).isEmpty();
    }
}
