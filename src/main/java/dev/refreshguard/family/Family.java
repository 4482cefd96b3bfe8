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

    public enum State { ACTIVE, REVOKED }

    public boolean revoked() {
        return state == State.REVOKED;
    }
}
