package dev.refreshguard.alert;

import org.keycloak.models.RealmModel;

import dev.refreshguard.GuardVersion;

/** A realm is protected exactly when the {@code refresh-guard} event listener is among its event listeners. */
public final class GuardSwitch {

    private GuardSwitch() {
    }

    public static boolean isOn(RealmModel realm) {
        return realm != null && realm.getEventsListenersStream().anyMatch(GuardVersion.PROVIDER_ID::equals);
    }
}
