package dev.refreshguard.alert;

/**
 * What a reuse most likely is, from its {@link Evidence}. Pure: the one rule, unit-tested.
 * <ul>
 *   <li>{@code likely-theft}: another DPoP key, or another address <em>and</em> another User-Agent;</li>
 *   <li>{@code likely-retry}: the same address and User-Agent (and no other DPoP key) within the client's retry
 *       window of the rotation: the shape of a client that retried a refresh whose answer it lost;</li>
 *   <li>{@code inconclusive}: anything else, including every fact unknown.</li>
 * </ul>
 * Every fact can be forged by a determined thief (see docs/alerts.md), so the verdict informs people; it never weakens
 * the action unless an admin chose so for {@code likely-retry}.
 */
public enum Verdict {
    LIKELY_RETRY("likely-retry"),
    LIKELY_THEFT("likely-theft"),
    INCONCLUSIVE("inconclusive");

    private final String word;

    Verdict(String word) {
        this.word = word;
    }

    public String word() {
        return word;
    }

    public static Verdict of(Evidence e, int retrySeconds) {
        if (Boolean.FALSE.equals(e.sameDpopKey())) {
            return LIKELY_THEFT;
        }
        if (Boolean.FALSE.equals(e.sameIp()) && Boolean.FALSE.equals(e.sameUserAgent())) {
            return LIKELY_THEFT;
        }
        if (Boolean.TRUE.equals(e.sameIp()) && Boolean.TRUE.equals(e.sameUserAgent()) && !Boolean.FALSE.equals(e.sameSession())
                && e.secondsSinceRotation() >= 0 && e.secondsSinceRotation() <= retrySeconds) {
            return LIKELY_RETRY;
        }
        return INCONCLUSIVE;
    }
}
