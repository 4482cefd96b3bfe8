package dev.refreshguard.console;

import java.util.List;
import java.util.Map;

import org.keycloak.component.ComponentModel;
import org.keycloak.component.ComponentValidationException;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.services.ui.extend.UiTabProvider;
import org.keycloak.services.ui.extend.UiTabProviderFactory;

import dev.refreshguard.GuardProviderFactory;
import dev.refreshguard.Jar;

/**
 * The tab {@code refresh-guard} on Realm settings: one field per realm-level {@code refresh.guard.*} attribute.
 * Keycloak 26.7.3 shows it only with the experimental feature {@code declarative-ui}; without it the console shows no
 * tab (server info still lists the factory). The console saves the form as a component of the realm; this factory refuses
 * values the admin API would refuse (same messages, nothing stored) and writes the saved form into the realm's
 * attributes, which stay the one source of truth: the refresh path reads them and never this component.
 * Every save writes every field (blank removes the realm's value), so after a save the tab and the realm agree;
 * a later change of the realm attributes by REST or kcadm is not shown until the tab is saved again.
 */
public final class RealmDefaultsTabFactory implements UiTabProviderFactory<ComponentModel>, GuardProviderFactory<UiTabProvider> {

    /** The Realm settings page; the tab param below picks our tab. */
    private static final String PATH = "/:realm/realm-settings/:tab?";
    private static final List<ProviderConfigProperty> PROPERTIES = PolicyField.properties(List.of(PolicyField.values()), RealmDefaults.FORM);

    @Override
    public String getPath() {
        return PATH;
    }

    @Override
    public Map<String, String> getParams() {
        return Map.of("tab", Jar.PROVIDER_ID);
    }

    @Override
    public String getHelpText() {
        return "refresh-guard: the realm's refresh-token rotation defaults and alert address (realm attributes refresh.guard.*)."
                + " Blank or 'default' fields remove the realm's value.";
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return PROPERTIES;
    }

    @Override
    public void validateConfiguration(KeycloakSession session, RealmModel realm, ComponentModel model) {
        if (model.getId() == null) {
            // The tab's first save creates the component: it has no id yet. Here, before Keycloak stores it, is the one
            // place a blank field can still take the realm's earlier value instead of removing it.
            RealmDefaults.carriedOver(RealmDefaults.values(model::get), realm::getAttribute).forEach(model::put);
        }
        List<String> problems = RealmDefaults.problems(RealmDefaults.values(model::get));
        if (!problems.isEmpty()) {
            // Keycloak formats the message with MessageFormat, which would eat the quotes of "got '999'": as the only
            // parameter of "{0}" it is shown as it is.
            throw new ComponentValidationException("{0}", String.join("; ", problems));
        }
    }

    @Override
    public void onCreate(KeycloakSession session, RealmModel realm, ComponentModel model) {
        write(realm, model);
    }

    @Override
    public void onUpdate(KeycloakSession session, RealmModel realm, ComponentModel oldModel, ComponentModel newModel) {
        write(realm, newModel);
    }

    /** Removing the component (REST only; the console has no button for it) leaves the realm's values as they are. */
    private static void write(RealmModel realm, ComponentModel model) {
        RealmDefaults.values(model::get).forEach((key, value) -> {
            if (value == null) {
                realm.removeAttribute(key);
            } else {
                realm.setAttribute(key, value);
            }
        });
    }
}
