package dev.refreshguard.policy;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** What happens when a rotated-away refresh token is presented again. */
public enum ReuseAction {
    REVOKE_FAMILY("revoke-family"),
    REVOKE_USER_SESSION("revoke-user-session"),
    REVOKE_ALL_SESSIONS("revoke-all-sessions"),
    ALERT_ONLY("alert-only"),
    /**
     * Refuse the presented token and raise the alert, revoking nothing: only for a reuse judged {@code likely-retry}
     * ({@code refresh.guard.reuse.action.likely-retry}), never a value of {@code refresh.guard.reuse.action}.
     */
    REFUSE("refuse");

    private final String word;

    ReuseAction(String word) {
        this.word = word;
    }

    public String word() {
        return word;
    }

    /** The words of {@code refresh.guard.reuse.action}, in declaration order (the default first). */
    public static List<String> words() {
        return Arrays.stream(values()).filter(a -> a != REFUSE).map(ReuseAction::word).toList();
    }

    /** The words of {@code refresh.guard.reuse.action.likely-retry}: every action, and {@code refuse}. */
    public static List<String> likelyRetryWords() {
        return Arrays.stream(values()).map(ReuseAction::word).toList();
    }

    /** An action of {@code refresh.guard.reuse.action}. */
    public static Optional<ReuseAction> fromWord(String word) {
        return Arrays.stream(values()).filter(a -> a != REFUSE && a.word.equals(word)).findFirst();
    }

    /** An action of {@code refresh.guard.reuse.action.likely-retry}. */
    public static Optional<ReuseAction> fromLikelyRetryWord(String word) {
        return Arrays.stream(values()).filter(a -> a.word.equals(word)).findFirst();
    }
}
