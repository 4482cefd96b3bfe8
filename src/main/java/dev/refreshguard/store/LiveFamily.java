package dev.refreshguard.store;

/**
 * What the purge's walk reads of a live family.
 *
 * @param newestExp the expiry of its newest token as the ledger last saw it (the grace successor's), 0 when unknown
 * @param sealed    whether a grace successor is stored
 */
public record LiveFamily(String id, String realmId, String clientUuid, String sessionId, boolean offline, int generation,
                         long createdAt, long rotatedAt, long newestExp, boolean sealed, String userId) {

    static final Columns COLUMNS = new Columns("ID", "REALM_ID", "CLIENT_ID", "SESSION_ID", "OFFLINE", "GENERATION",
            "CREATED_AT", "ROTATED_AT", "SUCCESSOR_EXP", "CASE WHEN SUCCESSOR <> '' THEN 1 ELSE 0 END AS SEALED", "USER_ID");

    static LiveFamily of(Columns.Row row) {
        return new LiveFamily(row.text("ID"), row.text("REALM_ID"), row.text("CLIENT_ID"), row.text("SESSION_ID"),
                row.bool("OFFLINE"), row.integer("GENERATION"), row.number("CREATED_AT"), row.number("ROTATED_AT"),
                row.number("SUCCESSOR_EXP"), row.number("SEALED") != 0, row.text("USER_ID"));
    }

    /** "session/client/offline": the client session its tokens live in, as {@link KeycloakTables} names it. */
    public String clientSessionKey() {
        return KeycloakTables.clientSessionKey(sessionId, clientUuid, offline);
    }
}
