package dev.refreshguard.family;

/**
 * One family: every refresh token descended by rotation from one grant, for one client.
 * Its stored state is constant in size, however many rotations it has seen.
 *
 * @param clientUuid Keycloak's internal id of the client
 * @param parentId   the family whose token was exchanged to start this one, or null
 * @param generation the generation of the newest token; 0 is the token from the grant
 */
public record Family(String id, String realmId, String clientUuid, String userId, String sessionId, boolean offline,
                     String parentId, int generation, long createdAt, long rotatedAt, String rotatedByIp,
                     State state, long revokedAt, String revokedReason) {

    /**
     * ACTIVE: its newest token can be used. REVOKED: refused on purpose (reuse, logout, an admin). ENDED: its session
     * ended or it is past its maximum, so none of its tokens can be used any more; found by the purge task.
     * For REVOKED and ENDED, {@code revokedAt} is when the family stopped being live.
     */
    public enum State { ACTIVE, REVOKED, ENDED }

    public boolean revoked() {
        return state == State.REVOKED;
    }

    public boolean ended() {
        return state == State.ENDED;
    }
}
