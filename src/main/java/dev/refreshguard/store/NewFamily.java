package dev.refreshguard.store;

/** What is known of a family when its first token is issued. */
public record NewFamily(String id, String realmId, String clientUuid, String userId, String sessionId, boolean offline,
                        String parentId, long createdAt, String ip) {
}
