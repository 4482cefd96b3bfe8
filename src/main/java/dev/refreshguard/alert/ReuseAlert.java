package dev.refreshguard.alert;

/**
 * The facts of one detected reuse, as every channel reports them. Never holds a token or any part of one.
 * The User-Agent is the presenter's own text: it arrives here cut to {@link UserText#MAX} characters, without control
 * characters.
 *
 * @param secondsSinceRotation -1 when the presented token is older than the family's last rotation
 * @param firstUseIp           null when the presented token is older than the family's last rotation
 * @param incident             the family's reuse incident, this reuse counted
 * @param signal               what revealed it: {@link AlertVocabulary#SIGNAL_ROTATED} or {@link AlertVocabulary#SIGNAL_DPOP_KEY}
 */
public record ReuseAlert(long time, String realmName, String clientId, String userId, String sessionId,
                         String presenterIp, String userAgent, String familyId, int generation, int latestGeneration,
                         long secondsSinceRotation, String firstUseIp, String action, int sessionsRevoked,
                         Evidence evidence, Verdict verdict, Incident incident, String signal) {

    public ReuseAlert {
        userAgent = UserText.cut(userAgent);
        presenterIp = UserText.cut(presenterIp);
    }

    String secondsSinceRotationText() {
        return secondsSinceRotation < 0 ? AlertVocabulary.UNKNOWN : Long.toString(secondsSinceRotation);
    }

    String firstUseIpText() {
        return firstUseIp == null ? AlertVocabulary.UNKNOWN : firstUseIp;
    }
}
