package dev.refreshguard.alert;

/**
 * Text a presenter controls (User-Agent, forwarded addresses), made fit for letters and log lines: cut to a sane
 * length and without control characters, so that it cannot forge lines or bloat a letter. Escaping for HTML and JSON
 * is left to FreeMarker and Jackson, which do it for every value.
 */
public final class UserText {

    /** Longer User-Agents exist only to attack: real ones are well below this. */
    public static final int MAX = 256;

    private UserText() {
    }

    public static String cut(String text) {
        if (text == null) {
            return null;
        }
        StringBuilder out = new StringBuilder(Math.min(text.length(), MAX + 1));
        for (int i = 0; i < text.length() && out.length() < MAX; i++) {
            char c = text.charAt(i);
            out.append(Character.isISOControl(c) || Character.getType(c) == Character.FORMAT ? '?' : c);
        }
        if (text.length() > MAX) {
            out.append('\u2026');
        }
        return out.toString();
    }
}
