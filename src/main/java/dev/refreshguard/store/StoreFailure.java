package dev.refreshguard.store;

import java.io.IOException;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTimeoutException;
import java.sql.SQLTransientConnectionException;
import java.util.Optional;
import java.util.Set;

/**
 * The failures of the store's statements that are faults of the environment, not bugs: the request answers 503
 * {@code temporarily_unavailable} with one WARN line instead of a 500 with a stack trace. Read from the failure as
 * JPA or JDBC reports it, however wrapped.
 */
public enum StoreFailure {

    /** A statement ran out of its {@code lock-timeout} bound, almost always waiting for a row another transaction holds. */
    LOCK_TIMEOUT("lock-timeout"),
    /** The connection to the database failed: the database is down, restarting, or the network between is cut. */
    DATABASE_UNREACHABLE("database-unreachable");

    /**
     * PostgreSQL: query_canceled (the JDBC timeout's cancel, or statement_timeout), lock_not_available (lock_timeout).
     * MariaDB/MySQL: the statement was interrupted (max_statement_time).
     */
    private static final Set<String> TIMEOUT_STATES = Set.of("57014", "55P03", "70100");
    /** MariaDB/MySQL error codes: lock wait timeout, max_statement_time exceeded (MariaDB), max_execution_time (MySQL). */
    private static final Set<Integer> TIMEOUT_CODES = Set.of(1205, 1969, 3024);
    /** Agroal's message when it cannot enlist a connection in the request's transaction (Keycloak has one datasource). */
    private static final String AGROAL_ENLIST_FAILED = "Failed to enlist";
    /** SQL states of class 08, connection exception, on every database. */
    private static final String CONNECTION_CLASS = "08";

    private final String word;

    StoreFailure(String word) {
        this.word = word;
    }

    /** As the counters and log lines name it. */
    public String word() {
        return word;
    }

    public static Optional<StoreFailure> of(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof NoConnection) {
                return Optional.of(DATABASE_UNREACHABLE);
            }
            if (t instanceof jakarta.persistence.QueryTimeoutException || t instanceof jakarta.persistence.LockTimeoutException
                    || t instanceof SQLTimeoutException) {
                return Optional.of(LOCK_TIMEOUT);
            }
            // Keycloak's EntityManagerProxy reports a JDBC failure as a ModelException caused by the driver's root
            // cause: for a lost connection the socket's IOException, with no SQLException in between.
            if (t instanceof SQLNonTransientConnectionException || t instanceof SQLTransientConnectionException
                    || t instanceof SQLRecoverableException || t instanceof IOException) {
                return Optional.of(DATABASE_UNREACHABLE);
            }
            if (t instanceof SQLException sql) {
                if (sql.getSQLState() == null && sql.getMessage() != null && sql.getMessage().startsWith(AGROAL_ENLIST_FAILED)) {
                    // The pool could not start a transaction on a connection: the database went away under it. Seen
                    // when a statement's connection is acquired inside Hibernate (a query), not by the store itself.
                    return Optional.of(DATABASE_UNREACHABLE);
                }
                // Drivers leave the state null for some failures (Set.of refuses to look up null).
                String state = sql.getSQLState() == null ? "" : sql.getSQLState();
                if (TIMEOUT_STATES.contains(state) || TIMEOUT_CODES.contains(sql.getErrorCode())) {
                    return Optional.of(LOCK_TIMEOUT);
                }
                if (state.startsWith(CONNECTION_CLASS)) {
                    return Optional.of(DATABASE_UNREACHABLE);
                }
            }
        }
        return Optional.empty();
    }

    /** A statement of the store that could not even get a connection from Keycloak's pool. */
    static final class NoConnection extends RuntimeException {
        NoConnection(RuntimeException cause) {
            super("no database connection for the statement", cause);
        }
    }
}
