package dev.refreshguard.store;

/**
 * One family: every refresh token descended by rotation from one grant, for one client.
 * Its stored state is constant in size, however many rotations it has seen.
 *
 * @param clientUuid Keycloak's internal id of the client
 * @param parentId   the family whose token was exchanged to start this one, or null
 * @param generation the generation of the newest token; 0 is the token from the grant
 * @param revokedAt  when it was revoked; 0 unless REVOKED
 * @param endedAt    when it was found ended; 0 unless ENDED
 */
public record Family(String id, String realmId, String clientUuid, String userId, String sessionId, boolean offline,
                     String parentId, int generation, long createdAt, long rotatedAt, String rotatedByIp,
                     State state, long revokedAt, long endedAt, String revokedReason) {

    /**
     * ACTIVE: its newest token can be used. REVOKED: refused on purpose (reuse, logout of its sessions, an admin, the
     * revocation endpoint). ENDED: none of its tokens can be used any more (its session ended, or it is past its
     * maximum); found at logout or by the purge task. REVOKED and ENDED families are kept for their retention.
     */
    public enum State { ACTIVE, REVOKED, ENDED }

    /** The stored columns a family is read from. */
    static final Columns COLUMNS = new Columns("ID", "REALM_ID", "CLIENT_ID", "USER_ID", "SESSION_ID", "OFFLINE", "PARENT_ID",
            "GENERATION", "CREATED_AT", "ROTATED_AT", "ROTATED_BY_IP", "STATE", "STOPPED_AT", "REVOKED_REASON");

    static Family of(Columns.Row row) {
        State state = State.valueOf(row.text("STATE"));
        long stoppedAt = row.number("STOPPED_AT");
        return new Family(row.text("ID"), row.text("REALM_ID"), row.text("CLIENT_ID"), row.text("USER_ID"),
                row.text("SESSION_ID"), row.bool("OFFLINE"), row.optionalText("PARENT_ID"), row.integer("GENERATION"),
                row.number("CREATED_AT"), row.number("ROTATED_AT"), row.optionalText("ROTATED_BY_IP"), state,
                state == State.REVOKED ? stoppedAt : 0, state == State.ENDED ? stoppedAt : 0, row.text("REVOKED_REASON"));
    }

    public boolean revoked() {
        return state == State.REVOKED;
    }

    public boolean ended() {
        return state == State.ENDED;
    }
}
