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

    String secondsSinceRotationText() {
        return secondsSinceRotation < 0 ? AlertVocabulary.UNKNOWN : Long.toString(secondsSinceRotation);
    }

    String firstUseIpText() {
        return firstUseIp == null ? AlertVocabulary.UNKNOWN : firstUseIp;
    }
}
