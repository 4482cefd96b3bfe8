package dev.refreshguard.policy;

import java.util.Arrays;
import java.util.Optional;

/** What happens when a rotated-away refresh token is presented again. */
public enum ReuseAction {
    REVOKE_FAMILY("revoke-family"),
    REVOKE_USER_SESSION("revoke-user-session"),
    REVOKE_ALL_SESSIONS("revoke-all-sessions"),
    ALERT_ONLY("alert-only");

    private final String word;

    ReuseAction(String word) {
        this.word = word;
    }

    public String word() {
        return word;
    }

    public static Optional<ReuseAction> fromWord(String word) {
        return Arrays.stream(values()).filter(a -> a.word.equals(word)).findFirst();
    }
}
