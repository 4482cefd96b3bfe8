package dev.refreshguard.realm;

import org.keycloak.models.RealmModel;

import dev.refreshguard.RefreshGuard;

/** A realm is protected exactly when the {@code refresh-guard} event listener is among its event listeners. */
public final class RealmSwitch {

    private RealmSwitch() {
    }

    public static boolean isOn(RealmModel realm) {
        return realm != null && realm.getEventsListenersStream().anyMatch(RefreshGuard.PROVIDER_ID::equals);
    }
}
