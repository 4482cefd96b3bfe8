package dev.refreshguard.store;

import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.Statement;
import java.util.Set;

import jakarta.persistence.Query;

/**
 * The bound on how long a statement of the store may wait, mostly for a row lock another transaction holds (a node
 * that died mid-request keeps its locks until the database ends its transaction). It rides on the statement itself,
 * with no extra round trip: JDBC's query timeout, which pgjdbc enforces with a cancel request from a timer and
 * MariaDB Connector/J by sending the statement as {@code SET STATEMENT max_statement_time=n FOR ...}; native queries
 * get the same through JPA's query-timeout hint.
 */
public final class LockWait {

    private static final String QUERY_TIMEOUT_HINT = "jakarta.persistence.query.timeout";
    /**
     * PostgreSQL: query_canceled (the JDBC timeout's cancel, or statement_timeout), lock_not_available (lock_timeout).
     * MariaDB/MySQL: the statement was interrupted (max_statement_time).
     */
    private static final Set<String> STATES = Set.of("57014", "55P03", "70100");
    /** MariaDB/MySQL error codes: lock wait timeout, max_statement_time exceeded (MariaDB), max_execution_time (MySQL). */
    private static final Set<Integer> CODES = Set.of(1205, 1969, 3024);

    private LockWait() {
    }

    static Query bounded(Query query, int seconds) {
        return query.setHint(QUERY_TIMEOUT_HINT, seconds * 1000);
    }

    static void bounded(Statement statement, int seconds) throws SQLException {
        statement.setQueryTimeout(seconds);
    }

    /** Whether a failure (as JPA or JDBC reports it, however wrapped) is a statement that ran out of its bound. */
    public static boolean expired(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof jakarta.persistence.QueryTimeoutException || t instanceof jakarta.persistence.LockTimeoutException
                    || t instanceof SQLTimeoutException) {
                return true;
            }
            if (t instanceof SQLException sql && (STATES.contains(sql.getSQLState()) || CODES.contains(sql.getErrorCode()))) {
                return true;
            }
        }
        return false;
    }
}
