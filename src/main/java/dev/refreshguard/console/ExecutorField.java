package dev.refreshguard.console;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.keycloak.provider.ProviderConfigProperty;

import dev.refreshguard.policy.Attribute;
import dev.refreshguard.policy.ReuseAction;

/**
 * One field of the {@code refresh-guard} executor form: the per-client attribute it writes, and how the console shows
 * it. Field names carry no dots (the console turns dots in form names into something else).
 * A blank field, or {@link #KEEP} in a list, writes nothing: the client keeps its own value, else the realm's, else
 * the default.
 */
enum ExecutorField {
    ROTATION(Attribute.ROTATION, "Rotation", List.of("on", "off")),
    REUSE_ACTION(Attribute.REUSE_ACTION, "Reuse action", ReuseAction.words()),
    GRACE_SECONDS(Attribute.GRACE_SECONDS, "Grace seconds", null),
    IDLE_SECONDS(Attribute.IDLE_SECONDS, "Idle seconds", null),
    MAX_SECONDS(Attribute.MAX_SECONDS, "Max seconds", null),
    OFFLINE_IDLE_SECONDS(Attribute.OFFLINE_IDLE_SECONDS, "Offline idle seconds", null),
    OFFLINE_MAX_SECONDS(Attribute.OFFLINE_MAX_SECONDS, "Offline max seconds", null),
    NOTIFY_USER(Attribute.NOTIFY_USER, "Notify user", List.of("true", "false"));

    /** The list choice that writes nothing. */
    static final String KEEP = "keep";

    private final Attribute attribute;
    private final String label;
    private final List<String> words;

    ExecutorField(Attribute attribute, String label, List<String> words) {
        this.attribute = attribute;
        this.label = label;
        this.words = words;
    }

    Attribute attribute() {
        return attribute;
    }

    /** The form field's name: the attribute key without its prefix, dots as dashes ({@code grace-seconds}). */
    String fieldName() {
        return attribute.key().substring(Attribute.PREFIX.length()).replace('.', '-');
    }

    ProviderConfigProperty property() {
        ProviderConfigProperty p = new ProviderConfigProperty();
        p.setName(fieldName());
        p.setLabel(label);
        String help = "Writes the client attribute " + attribute.key() + " (accepts " + attribute.accepts()
                + ", default '" + attribute.defaultValue() + "') when a client this policy applies to is created or saved.";
        if (words == null) {
            p.setType(ProviderConfigProperty.STRING_TYPE);
            p.setHelpText(help + " Blank: the client keeps its own value, else the realm's, else the default.");
        } else {
            List<String> options = new ArrayList<>();
            options.add(KEEP);
            options.addAll(words);
            p.setType(ProviderConfigProperty.LIST_TYPE);
            p.setOptions(options);
            p.setDefaultValue(KEEP);
            p.setHelpText(help + " '" + KEEP + "': the client keeps its own value, else the realm's, else the default.");
        }
        return p;
    }

    /** The attribute value this field asks for in an executor configuration, or null when it asks for none. */
    String requested(Map<String, Object> config) {
        Object raw = config == null ? null : config.get(fieldName());
        if (raw == null) {
            return null;
        }
        // The console stores text; a JSON number or boolean sent through the REST API means the same.
        String text = String.valueOf(raw).trim();
        return text.isEmpty() || (words != null && text.equals(KEEP)) ? null : text;
    }

    static List<ProviderConfigProperty> properties() {
        List<ProviderConfigProperty> out = new ArrayList<>();
        for (ExecutorField f : values()) {
            out.add(f.property());
        }
        return out;
    }
}
