package dev.refreshguard.policy;

/**
 * One resolved attribute: the value in force, where it came from, and — when a stored value was refused —
 * that raw value and why.
 */
public record Setting(Attribute attribute, String value, Source source, boolean valid, String rejectedValue, String problem) {

    public enum Source {
        CLIENT, REALM, DEFAULT;

        public String word() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    static Setting accepted(Attribute attribute, String value, Source source) {
        return new Setting(attribute, value, source, true, null, null);
    }

    /** A stored value that was refused: the default is in force instead. */
    static Setting rejected(Attribute attribute, String raw, Source source, String problem) {
        return new Setting(attribute, attribute.defaultValue(), source, false, raw, problem);
    }
}
