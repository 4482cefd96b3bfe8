package dev.refreshguard.console;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

import org.keycloak.provider.ProviderConfigProperty;

import dev.refreshguard.policy.Attribute;
import dev.refreshguard.policy.ReuseAction;

/**
 * One console field of a {@code refresh.guard.*} attribute: the attribute it writes, and how the console shows it.
 * Both console forms use these fields: the client-policy executor (per-client attributes) and the realm tab (realm
 * defaults and the realm-only alert address). Field names carry no dots (the console turns dots in form names into
 * something else). A blank field, or the form's "none" word in a list, writes no value.
 */
enum PolicyField {
    ROTATION(Attribute.ROTATION, "Rotation", List.of("on", "off")),
    REUSE_ACTION(Attribute.REUSE_ACTION, "Reuse action", ReuseAction.words()),
    REUSE_ACTION_LIKELY_RETRY(Attribute.REUSE_ACTION_LIKELY_RETRY, "Reuse action when likely retry", ReuseAction.likelyRetryWords()),
    REUSE_RETRY_SECONDS(Attribute.REUSE_RETRY_SECONDS, "Retry seconds", null),
    GRACE_SECONDS(Attribute.GRACE_SECONDS, "Grace seconds", null),
    IDLE_SECONDS(Attribute.IDLE_SECONDS, "Idle seconds", null),
    MAX_SECONDS(Attribute.MAX_SECONDS, "Max seconds", null),
    OFFLINE_IDLE_SECONDS(Attribute.OFFLINE_IDLE_SECONDS, "Offline idle seconds", null),
    OFFLINE_MAX_SECONDS(Attribute.OFFLINE_MAX_SECONDS, "Offline max seconds", null),
    NOTIFY_USER(Attribute.NOTIFY_USER, "Notify user", List.of("true", "false")),
    ALERT_EMAIL(Attribute.ALERT_EMAIL, "Alert email", null),
    WASNT_ME_SECONDS(Attribute.WASNT_ME_SECONDS, "\"This wasn't me\" link seconds", null),
    WASNT_ME_UPDATE_PASSWORD(Attribute.WASNT_ME_UPDATE_PASSWORD, "\"This wasn't me\" requires a new password", List.of("true", "false"));

    /**
     * How one form shows its fields: the list choice that writes no value, what a field writes (a format whose
     * {@code %s} is the attribute key and what it accepts), and what a blank field means.
     */
    record Form(String noneWord, String writes, String blankMeans) {
    }

    /**
     * What the console says next to rotation: the Keycloak settings that override it, and where the effective value
     * and the cause of one client are shown (the same words as the policy endpoint and the alert line).
     */
    static final String ROTATION_OVERRIDES = ". Keycloak's own settings can make rotation impossible for a client:"
            + " client attribute use.refresh.tokens=false, or a client policy with executor suppress-refresh-token-rotation"
            + " (ignored for a public client whose refresh tokens are not DPoP- or mTLS-bound: refresh-guard keeps rotating"
            + " them). GET /admin/realms/{realm}/refresh-guard/policy?client_id=... shows the effective value and the setting"
            + " that causes it, and the first refresh of such a client after a server start logs it on dev.refreshguard.alert"
            + " (refresh_guard_rotation_overridden)";

    private final Attribute attribute;
    private final String label;
    private final List<String> words;

    PolicyField(Attribute attribute, String label, List<String> words) {
        this.attribute = attribute;
        this.label = label;
        this.words = words;
    }

    Attribute attribute() {
        return attribute;
    }

    /** The fields of the per-client attributes: every field but the realm-only alert address. */
    static List<PolicyField> clientFields() {
        return Arrays.stream(values()).filter(f -> !f.attribute.realmOnly()).toList();
    }

    /** The form field's name: the attribute key without its prefix, dots as dashes ({@code grace-seconds}). */
    String fieldName() {
        return attribute.key().substring(Attribute.PREFIX.length()).replace('.', '-');
    }

    ProviderConfigProperty property(Form form) {
        ProviderConfigProperty p = new ProviderConfigProperty();
        p.setName(fieldName());
        p.setLabel(label);
        String defaultText = attribute.defaultValue() == null ? "no default" : "default '" + attribute.defaultValue() + "'";
        String help = form.writes().formatted(attribute.key() + " (accepts " + attribute.accepts() + ", " + defaultText + ")");
        if (words == null) {
            p.setType(ProviderConfigProperty.STRING_TYPE);
            p.setHelpText(help + ". Blank: " + form.blankMeans());
        } else {
            List<String> options = new ArrayList<>();
            options.add(form.noneWord());
            options.addAll(words);
            p.setType(ProviderConfigProperty.LIST_TYPE);
            p.setOptions(options);
            p.setDefaultValue(form.noneWord());
            p.setHelpText(help + ". '" + form.noneWord() + "': " + form.blankMeans() + (this == ROTATION ? ROTATION_OVERRIDES : ""));
        }
        return p;
    }

    /**
     * The attribute value this field asks for, read from a form's stored values by field name, or null when it asks
     * for none (absent, blank, or the form's none word in a list).
     */
    String requested(Function<String, Object> stored, Form form) {
        Object raw = stored.apply(fieldName());
        if (raw == null) {
            return null;
        }
        // The console stores text; a JSON number or boolean sent through the REST API means the same.
        String text = String.valueOf(raw).trim();
        return text.isEmpty() || (words != null && text.equals(form.noneWord())) ? null : text;
    }

    static List<ProviderConfigProperty> properties(List<PolicyField> fields, Form form) {
        return fields.stream().map(f -> f.property(form)).toList();
    }
}
