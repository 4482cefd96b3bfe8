package dev.refreshguard.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.sql.SQLTimeoutException;

import jakarta.persistence.PersistenceException;

import org.junit.jupiter.api.Test;

/** Which failures are a statement that ran out of its lock-wait bound (503), and which are not (left as they are). */
class LockWaitTest {

    @Test
    void theBoundRunningOutOnEitherDatabaseIsRecognisedHoweverWrapped() {
        // pgjdbc's query-timeout cancel; PostgreSQL's own lock_timeout
        assertThat(LockWait.expired(new PersistenceException(new SQLException("canceling statement due to user request", "57014")))).isTrue();
        assertThat(LockWait.expired(new SQLException("canceling statement due to lock timeout", "55P03"))).isTrue();
        // MariaDB: max_statement_time (Connector/J's query timeout), innodb_lock_wait_timeout
        assertThat(LockWait.expired(new RuntimeException(new SQLException("Query execution was interrupted", "70100", 1969)))).isTrue();
        assertThat(LockWait.expired(new SQLException("Lock wait timeout exceeded", "HY000", 1205))).isTrue();
        assertThat(LockWait.expired(new SQLTimeoutException("timed out"))).isTrue();
        assertThat(LockWait.expired(new jakarta.persistence.QueryTimeoutException("timed out"))).isTrue();
    }

    @Test
    void otherFailuresAreNotALockWait() {
        assertThat(LockWait.expired(new PersistenceException(new SQLException("duplicate key", "23505")))).isFalse();
        assertThat(LockWait.expired(new SQLException("An I/O error occurred while sending to the backend", "08006"))).isFalse();
        assertThat(LockWait.expired(new IllegalStateException("no cause"))).isFalse();
    }
}
