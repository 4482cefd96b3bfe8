package dev.refreshguard.store;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import jakarta.persistence.EntityManager;

/**
 * The two Keycloak tables refresh-guard reads directly, for the purge's batches: Keycloak's model API has no batched
 * look-up of sessions or user not-befores, and one query per family would not scale. Nothing else reads Keycloak's
 * tables; a Keycloak version that changes them breaks here, and the compatibility leg's test shows it
 * (docs/compatibility.md, "What we rely on inside Keycloak").
 */
public final class KeycloakTables {

    private static final Columns CLIENT_SESSIONS = new Columns("USER_SESSION_ID", "CLIENT_ID", "OFFLINE_FLAG");
    private static final Columns NOT_BEFORE = new Columns("ID", "NOT_BEFORE");

    private final EntityManager em;

    KeycloakTables(EntityManager em) {
        this.em = em;
    }

    /**
     * OFFLINE_CLIENT_SESSION: the stored client sessions of the given user sessions, as {@link #clientSessionKey}s.
     * Offline sessions always live there; online ones too while persistent user sessions are on (Keycloak's default).
     */
    public Set<String> storedClientSessions(Collection<String> userSessionIds) {
        Set<String> held = new HashSet<>();
        for (Columns.Row row : CLIENT_SESSIONS.rows(em.createNativeQuery("SELECT " + CLIENT_SESSIONS.list()
                        + " FROM OFFLINE_CLIENT_SESSION WHERE USER_SESSION_ID IN (:ids)")
                .setParameter("ids", userSessionIds))) {
            held.add(clientSessionKey(row.text("USER_SESSION_ID"), row.text("CLIENT_ID"), "1".equals(row.text("OFFLINE_FLAG"))));
        }
        return held;
    }

    /**
     * USER_ENTITY: the not-before of the given users who have one (local users and users imported from a federation
     * provider; a provider without import keeps its own and is not consulted).
     */
    public Map<String, Integer> usersNotBefore(Collection<String> userIds) {
        Map<String, Integer> notBefore = new HashMap<>();
        for (Columns.Row row : NOT_BEFORE.rows(em.createNativeQuery("SELECT " + NOT_BEFORE.list()
                        + " FROM USER_ENTITY WHERE ID IN (:ids) AND NOT_BEFORE > 0")
                .setParameter("ids", userIds))) {
            notBefore.put(row.text("ID"), row.integer("NOT_BEFORE"));
        }
        return notBefore;
    }

    /** How a client session is named across the purge: "userSession/clientUuid/offline". */
    static String clientSessionKey(String userSessionId, String clientUuid, boolean offline) {
        return userSessionId + "/" + clientUuid + "/" + offline;
    }
}
