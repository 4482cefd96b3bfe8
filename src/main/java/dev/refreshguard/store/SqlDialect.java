package dev.refreshguard.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Locale;

import org.keycloak.connections.jpa.JpaConnectionProvider;
import org.keycloak.connections.jpa.JpaConnectionProviderFactory;
import org.keycloak.models.KeycloakSessionFactory;

/**
 * The one statement whose spelling differs between the databases Keycloak supports: an INSERT that does nothing
 * when the row exists. A failing INSERT is no option: on PostgreSQL it aborts the whole request transaction.
 */
public enum SqlDialect {

    /** PostgreSQL (and CockroachDB-like): {@code ON CONFLICT DO NOTHING}. */
    POSTGRESQL {
        @Override
        String insertIfAbsent(String table, String columns, String values) {
            return "INSERT INTO " + table + " (" + columns + ") VALUES (" + values + ") ON CONFLICT DO NOTHING";
        }
    },
    /**
     * MariaDB and MySQL: {@code ON DUPLICATE KEY UPDATE} of nothing. Not {@code INSERT IGNORE}: on a duplicate that
     * takes a shared lock, and the concurrent losers then deadlock upgrading it for the rotate step's UPDATE; this
     * form takes the exclusive lock at once, so the losers queue.
     */
    MYSQL {
        @Override
        String insertIfAbsent(String table, String columns, String values) {
            return "INSERT INTO " + table + " (" + columns + ") VALUES (" + values + ") ON DUPLICATE KEY UPDATE ID = ID";
        }
    },
    /**
     * Others (Oracle, SQL Server, H2): a plain INSERT after a lookup found no row. Not atomic: two first
     * presentations of one token at the very same moment may make one of them fail with a key violation (a refused
     * request, never a second family). Only PostgreSQL and MariaDB/MySQL are tested.
     */
    OTHER {
        @Override
        String insertIfAbsent(String table, String columns, String values) {
            return "INSERT INTO " + table + " (" + columns + ") VALUES (" + values + ")";
        }

        @Override
        boolean atomic() {
            return false;
        }
    };

    /** Whether {@link #insertIfAbsent} itself copes with an existing row. */
    boolean atomic() {
        return true;
    }

    abstract String insertIfAbsent(String table, String columns, String values);

    /** From the JDBC product name, e.g. "PostgreSQL", "MariaDB", "MySQL". */
    public static SqlDialect ofProduct(String productName) {
        String name = productName == null ? "" : productName.toLowerCase(Locale.ROOT);
        if (name.contains("postgres")) {
            return POSTGRESQL;
        }
        if (name.contains("mariadb") || name.contains("mysql")) {
            return MYSQL;
        }
        return OTHER;
    }

    /** Asks the database once (the caller keeps the answer for the server's life). */
    public static SqlDialect detect(KeycloakSessionFactory factory) {
        JpaConnectionProviderFactory jpa = (JpaConnectionProviderFactory) factory.getProviderFactory(JpaConnectionProvider.class);
        try (Connection connection = jpa.getConnection()) {
            return ofProduct(connection.getMetaData().getDatabaseProductName());
        } catch (SQLException e) {
            throw new IllegalStateException("cannot tell which database stores the refresh-token families", e);
        }
    }
}
