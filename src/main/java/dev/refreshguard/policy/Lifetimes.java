package dev.refreshguard.policy;

/**
 * Lifetime arithmetic of a family, in epoch seconds. A limit of 0 means "none of its own".
 * Rotation never extends the family's max: it is counted from the family's start, not the token's.
 */
public final class Lifetimes {

    private Lifetimes() {
    }

    /**
     * The expiry of a refresh token minted at {@code now}: the earliest of Keycloak's own expiry
     * ({@code keycloakExp}, 0 or less = none), now + idle and familyStart + max.
     * Returns 0 when nothing limits the token.
     */
    public static long expiry(long keycloakExp, long now, long familyStart, int idleSeconds, int maxSeconds) {
        long exp = keycloakExp > 0 ? keycloakExp : Long.MAX_VALUE;
        if (idleSeconds > 0) {
            exp = Math.min(exp, now + idleSeconds);
        }
        if (maxSeconds > 0) {
            exp = Math.min(exp, familyStart + maxSeconds);
        }
        return exp == Long.MAX_VALUE ? 0 : exp;
    }

    /** Whether a token of a family started at familyStart, last refreshed at lastRefresh, is past idle or max at now. */
    public static boolean expired(long now, long familyStart, long lastRefresh, int idleSeconds, int maxSeconds) {
        if (idleSeconds > 0 && now > lastRefresh + idleSeconds) {
            return true;
        }
        return maxSeconds > 0 && now > familyStart + maxSeconds;
    }
}
