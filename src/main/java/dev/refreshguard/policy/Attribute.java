package dev.refreshguard.policy;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Every {@code refresh.guard.*} attribute, with its default and the one rule that says what it accepts.
 * Parsing and validation live here and nowhere else.
 */
public enum Attribute {
    ROTATION("refresh.guard.rotation", "on", "'on' or 'off'", false),
    REUSE_ACTION("refresh.guard.reuse.action", "revoke-family",
            "one of revoke-family, revoke-user-session, revoke-all-sessions, alert-only", false),
    /** The action for a reuse judged likely-retry; unset: the reuse action, so the verdict never weakens it by default. */
    REUSE_ACTION_LIKELY_RETRY("refresh.guard.reuse.action.likely-retry", null,
            "one of revoke-family, revoke-user-session, revoke-all-sessions, alert-only, refuse (unset: the reuse action)", false),
    /** How soon after a token's rotation a presentation from the same address and User-Agent is judged likely-retry. */
    REUSE_RETRY_SECONDS("refresh.guard.reuse.retry.seconds", "10", "an integer from 0 to 300", false),
    GRACE_SECONDS("refresh.guard.grace.seconds", "0", "an integer from 0 to 300", false),
    IDLE_SECONDS("refresh.guard.idle.seconds", "0", "an integer >= 0 (0 = no limit of its own)", false),
    MAX_SECONDS("refresh.guard.max.seconds", "0", "an integer >= 0 (0 = no limit of its own)", false),
    OFFLINE_IDLE_SECONDS("refresh.guard.offline.idle.seconds", "0", "an integer >= 0 (0 = no limit of its own)", false),
    OFFLINE_MAX_SECONDS("refresh.guard.offline.max.seconds", "0", "an integer >= 0 (0 = no limit of its own)", false),
    NOTIFY_USER("refresh.guard.notify.user", "false", "'true' or 'false'", false),
    ALERT_EMAIL("refresh.guard.alert.email", null, "an email address (realm attribute only)", true),
    WASNT_ME_SECONDS("refresh.guard.wasnt.me.seconds", "43200",
            "an integer from 1 to 604800 (seconds; realm attribute only)", true),
    WASNT_ME_UPDATE_PASSWORD("refresh.guard.wasnt.me.update.password", "false",
            "'true' or 'false' (realm attribute only)", true);

    public static final String PREFIX = "refresh.guard.";

    private static final Pattern EMAIL = Pattern.compile("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$");
    private static final int MAX_SECONDS_VALUE = 10 * 365 * 24 * 3600;

    private final String key;
    private final String defaultValue;
    private final String accepts;
    private final boolean realmOnly;

    Attribute(String key, String defaultValue, String accepts, boolean realmOnly) {
        this.key = key;
        this.defaultValue = defaultValue;
        this.accepts = accepts;
        this.realmOnly = realmOnly;
    }

    public String key() {
        return key;
    }

    /** The default as text; null where there is none. */
    public String defaultValue() {
        return defaultValue;
    }

    public String accepts() {
        return accepts;
    }

    public boolean realmOnly() {
        return realmOnly;
    }

    public static Optional<Attribute> byKey(String key) {
        for (Attribute a : values()) {
            if (a.key.equals(key)) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }

    /** Whether {@code raw} (already trimmed) is a value this attribute accepts. */
    public boolean accepts(String raw) {
        if (raw == null) {
            return false;
        }
        return switch (this) {
            case ROTATION -> raw.equals("on") || raw.equals("off");
            case REUSE_ACTION -> ReuseAction.fromWord(raw).isPresent();
            case REUSE_ACTION_LIKELY_RETRY -> ReuseAction.fromLikelyRetryWord(raw).isPresent();
            case GRACE_SECONDS, REUSE_RETRY_SECONDS -> integerIn(raw, 0, 300);
            case IDLE_SECONDS, MAX_SECONDS, OFFLINE_IDLE_SECONDS, OFFLINE_MAX_SECONDS -> integerIn(raw, 0, MAX_SECONDS_VALUE);
            case NOTIFY_USER -> raw.equals("true") || raw.equals("false");
            case ALERT_EMAIL -> raw.length() <= 254 && EMAIL.matcher(raw).matches();
            case WASNT_ME_SECONDS -> integerIn(raw, 1, 7 * 24 * 3600);
            case WASNT_ME_UPDATE_PASSWORD -> raw.equals("true") || raw.equals("false");
        };
    }

    /** The message an admin sees for a refused value: names the attribute and what it accepts. */
    public String problem(String raw) {
        return key + " accepts " + accepts + "; got '" + shorten(raw) + "'";
    }

    /** The message for a realm-only attribute set on a client. */
    String realmOnlyProblem() {
        return key + " accepts " + accepts + "; it cannot be set on a client, set it on the realm";
    }

    /** The message for a {@code refresh.guard.*} key that is not an attribute of refresh-guard. */
    static String unknownKeyProblem(String key) {
        StringBuilder known = new StringBuilder();
        for (Attribute a : values()) {
            if (!a.realmOnly) {
                known.append(known.length() == 0 ? "" : ", ").append(a.key);
            }
        }
        return "'" + shorten(key) + "' is not a refresh-guard attribute; client attributes are " + known;
    }

    private static boolean integerIn(String raw, int min, int max) {
        if (raw.isEmpty() || raw.length() > 10) {
            return false;
        }
        for (int i = 0; i < raw.length(); i++) {
            if (!Character.isDigit(raw.charAt(i)) || raw.charAt(i) > '9') {
                return false;
            }
        }
        long value = Long.parseLong(raw);
        return value >= min && value <= max;
    }

    static String shorten(String raw) {
        if (raw == null) {
            return "";
        }
        String printable = raw.replaceAll("\\p{Cntrl}", "?");
        return printable.length() > 64 ? printable.substring(0, 64) + "..." : printable;
    }
}
