package dev.refreshguard.policy;

import java.util.Arrays;
import java.util.List;
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

    /** Every action's word, in declaration order (the default first). */
    public static List<String> words() {
        return Arrays.stream(values()).map(ReuseAction::word).toList();
    }

    public static Optional<ReuseAction> fromWord(String word) {
        return Arrays.stream(values()).filter(a -> a.word.equals(word)).findFirst();
    }
}
