package dev.refreshguard.console;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

import dev.refreshguard.policy.Attribute;
import dev.refreshguard.policy.Policy;

/**
 * The realm tab's form and the realm's {@code refresh.guard.*} attributes it writes: one field per attribute a
 * realm can hold (the defaults of every per-client attribute, and the realm-only alert address). Pure, so the
 * mapping and the rules are unit-testable.
 */
final class RealmDefaults {

    /** A blank field, or 'default' in a list, removes the realm's value: the built-in default applies. */
    static final PolicyField.Form FORM = new PolicyField.Form("default",
            "Saving writes the realm attribute %s, which applies to every client without a value of its own",
            "saving removes the realm's value, so the built-in default applies.");

    private RealmDefaults() {
    }

    /** Every field's attribute value in a stored tab configuration, by attribute key; null where it asks for none. */
    static Map<String, String> values(Function<String, String> stored) {
        Map<String, String> out = new LinkedHashMap<>();
        for (PolicyField field : PolicyField.values()) {
            out.put(field.attribute().key(), field.requested(stored::apply, FORM));
        }
        return out;
    }

    /** The admin API's messages for what these values get wrong; empty when the realm may hold them. */
    static List<String> problems(Map<String, String> values) {
        Map<String, String> present = new LinkedHashMap<>(values);
        present.values().removeIf(Objects::isNull);
        return Policy.problemsOfRealmAttributes(present);
    }

    /**
     * For the tab's first save: the realm's current values of the fields left blank, by field name. Without them a
     * first save would remove every realm value set before (kcadm, REST, import) that the new tab could not show.
     * A stored value the rules refuse is not carried over: it was never in force (the default applied instead).
     */
    static Map<String, String> carriedOver(Map<String, String> values, Function<String, String> realmAttribute) {
        Map<String, String> out = new LinkedHashMap<>();
        for (PolicyField field : PolicyField.values()) {
            Attribute attribute = field.attribute();
            String current = realmAttribute.apply(attribute.key());
            if (values.get(attribute.key()) == null && current != null && attribute.accepts(current.trim())) {
                out.put(field.fieldName(), current.trim());
            }
        }
        return out;
    }
}
