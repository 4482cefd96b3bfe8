package dev.refreshguard.bench.onewrite;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.UUID;

import jakarta.persistence.EntityManager;

import org.jboss.logging.Logger;
import org.keycloak.common.util.Time;
import org.keycloak.connections.jpa.JpaConnectionProvider;
import org.keycloak.events.Event;
import org.keycloak.events.EventListenerProvider;
import org.keycloak.events.EventType;
import org.keycloak.events.admin.AdminEvent;
import org.keycloak.models.KeycloakSession;

/**
 * A login inserts one row into {@code RG_BENCH_WRITE} (a copy of {@code RG_FAMILY}'s definition, made by the
 * benchmark) and every refresh of that session updates it: the same columns, the same plain-JDBC path on the
 * request's connection and the same commit as the ledger's rotate, but no judgement at all. Keycloak calls listeners
 * inside the request's transaction, before it commits.
 */
final class OneWriteListener implements EventListenerProvider {

    private static final Logger SQL = Logger.getLogger(OneWriteListenerFactory.SQL_LOG_CATEGORY);

    private static final String INSERT = "INSERT INTO RG_BENCH_WRITE (ID, REALM_ID, CLIENT_ID, USER_ID, SESSION_ID, OFFLINE,"
            + " PARENT_ID, GENERATION, CREATED_AT, ROTATED_AT, ROTATED_BY_IP, STATE, STOPPED_AT, REVOKED_REASON)"
            + " VALUES (?, ?, ?, ?, ?, FALSE, '', 0, ?, ?, ?, 'ACTIVE', 0, NULL)";
    private static final String UPDATE = "UPDATE RG_BENCH_WRITE SET GENERATION = GENERATION + 1, ROTATED_AT = ?,"
            + " ROTATED_BY_IP = ?, SUCCESSOR = '', SUCCESSOR_EXP = 0 WHERE ID = ? AND STATE = 'ACTIVE'";

    private final KeycloakSession session;

    OneWriteListener(KeycloakSession session) {
        this.session = session;
    }

    @Override
    public void onEvent(Event event) {
        if (event.getSessionId() == null || event.getError() != null) {
            return;
        }
        if (event.getType() == EventType.LOGIN) {
            write(INSERT, event, true);
        } else if (event.getType() == EventType.REFRESH_TOKEN) {
            write(UPDATE, event, false);
        }
    }

    private void write(String sql, Event event, boolean insert) {
        if (SQL.isDebugEnabled()) {
            SQL.debug(sql);
        }
        // A row per session keyed like a family (36 characters), so that concurrent clients never share a row lock.
        String id = UUID.nameUUIDFromBytes(event.getSessionId().getBytes(StandardCharsets.UTF_8)).toString();
        long now = Time.currentTimeMillis();
        EntityManager em = session.getProvider(JpaConnectionProvider.class).getEntityManager();
        // A durable write, as the ledger's: Keycloak would otherwise commit a refresh asynchronously on PostgreSQL
        // (see store.Store#SYNC_COMMIT_REQUIRED).
        em.setProperty("kc.sync_commit_required", Boolean.TRUE);
        em.runWithConnection((Connection connection) -> {
            try (PreparedStatement statement = connection.prepareStatement(sql)) {
                if (insert) {
                    statement.setString(1, id);
                    statement.setString(2, event.getRealmId());
                    statement.setString(3, event.getClientId());
                    statement.setString(4, event.getUserId());
                    statement.setString(5, event.getSessionId());
                    statement.setLong(6, now);
                    statement.setLong(7, now);
                    statement.setString(8, event.getIpAddress());
                } else {
                    statement.setLong(1, now);
                    statement.setString(2, event.getIpAddress());
                    statement.setString(3, id);
                }
                statement.executeUpdate();
            }
        });
    }

    @Override
    public void onEvent(AdminEvent event, boolean includeRepresentation) {
    }

    @Override
    public void close() {
    }
}
