package dev.refreshguard.store;

import java.sql.SQLException;
import java.sql.Statement;

import jakarta.persistence.Query;

/**
 * The bound on how long a statement of the store may wait, mostly for a row lock another transaction holds (a node
 * that died mid-request keeps its locks until the database ends its transaction). It rides on the statement itself,
 * with no extra round trip: JDBC's query timeout, which pgjdbc enforces with a cancel request from a timer and
 * MariaDB Connector/J by sending the statement as {@code SET STATEMENT max_statement_time=n FOR ...}; native queries
 * get the same through JPA's query-timeout hint.
 */
final class LockWait {

    private static final String QUERY_TIMEOUT_HINT = "jakarta.persistence.query.timeout";

    private LockWait() {
    }

    static Query bounded(Query query, int seconds) {
        return query.setHint(QUERY_TIMEOUT_HINT, seconds * 1000);
    }

    static void bounded(Statement statement, int seconds) throws SQLException {
        statement.setQueryTimeout(seconds);
    }
}
