package dev.refreshguard.family;

/** What is known of a family when its first token is issued. */
public record NewFamily(String id, String realmId, String clientUuid, String userId, String sessionId, boolean offline,
                        String parentId, long createdAt, String ip) {

    /** Session attribute naming the parent family of the token a token exchange is about to mint. */
    public static final String PARENT_ATTRIBUTE = "dev.refreshguard.parent-family";
}
