package dev.refreshguard.alert;

/**
 * The facts of one detected reuse, as every channel reports them. Never holds a token or any part of one.
 *
 * @param secondsSinceRotation -1 when the presented token is older than the family's last rotation
 * @param firstUseIp           null when the presented token is older than the family's last rotation
 */
public record ReuseAlert(long time, String realmName, String clientId, String userId, String sessionId,
                         String presenterIp, String userAgent, String familyId, int generation, int latestGeneration,
                         long secondsSinceRotation, String firstUseIp, String action, int sessionsRevoked) {

    public static final String EVENT_ERROR = "refresh_token_reused";

    String secondsSinceRotationText() {
        return secondsSinceRotation < 0 ? "unknown" : Long.toString(secondsSinceRotation);
    }

    String firstUseIpText() {
        return firstUseIp == null ? "unknown" : firstUseIp;
    }
}
