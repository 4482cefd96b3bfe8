package dev.refreshguard.listener;

import org.keycloak.common.util.Time;
import org.keycloak.events.Details;
import org.keycloak.events.Event;
import org.keycloak.events.EventListenerProvider;
import org.keycloak.events.EventListenerProviderFactory;
import org.keycloak.events.EventType;
import org.keycloak.events.admin.AdminEvent;
import org.keycloak.events.admin.OperationType;
import org.keycloak.events.admin.ResourceType;
import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;

import dev.refreshguard.policy.Protection;

import dev.refreshguard.GuardProviderFactory;
import dev.refreshguard.reuse.RevocationScope;
import dev.refreshguard.reuse.RevokeFamily;
import dev.refreshguard.spi.RefreshGuard;
import dev.refreshguard.store.Family;
import dev.refreshguard.store.RevocationReason;

/**
 * The per-realm switch: adding the {@code refresh-guard} event listener to a realm turns protection on.
 * Reuse alerts are raised where reuse is detected (they carry facts no event listener could see); the listener
 * itself follows the RFC 7009 revocation endpoint, so that revoking any refresh token revokes its whole family, and
 * logouts, so that the families of an ended session stop being live at once.
 */
public final class GuardEventListenerFactory implements EventListenerProviderFactory, GuardProviderFactory<EventListenerProvider> {

    @Override
    public EventListenerProvider create(KeycloakSession session) {
        return new Listener(session);
    }

    private static final class Listener implements EventListenerProvider {

        private final KeycloakSession session;

        Listener(KeycloakSession session) {
            this.session = session;
        }

        @Override
        public void onEvent(Event event) {
            if (event.getType() == EventType.REVOKE_GRANT && event.getError() == null && event.getSessionId() != null
                    && event.getDetails() != null && event.getDetails().containsKey(Details.REFRESH_TOKEN_ID)) {
                revokeFamiliesOfRevokedGrant(event);
            } else if (event.getType() == EventType.LOGOUT && event.getError() == null && event.getSessionId() != null) {
                RefreshGuard.of(session).store().revocations().endOnlineSession(event.getRealmId(), event.getSessionId(), Time.currentTime());
            }
        }

        /** Keycloak ended the client's session for the revoked refresh token; its families (and their children) go too. */
        private void revokeFamiliesOfRevokedGrant(Event event) {
            RealmModel realm = session.realms().getRealm(event.getRealmId());
            ClientModel client = realm == null ? null : session.clients().getClientByClientId(realm, event.getClientId());
            if (client == null) {
                return;
            }
            for (Family family : RefreshGuard.of(session).store().queries()
                    .liveOfClientSession(realm.getId(), event.getSessionId(), client.getId())) {
                new RevokeFamily().apply(RevocationScope.of(session, realm, family, RevocationReason.REVOCATION_ENDPOINT));
            }
        }

        /**
         * Keycloak hands an admin event to the listeners the realm had when the request began: a realm update that
         * removed this very listener still reaches it. That is the one moment protection is switched off (only
         * {@code manage-events} is needed), so it is made loud here.
         */
        @Override
        public void onEvent(AdminEvent event, boolean includeRepresentation) {
            if (event.getOperationType() != OperationType.UPDATE || event.getResourceType() != ResourceType.REALM
                    || event.getError() != null) {
                return;
            }
            RealmModel realm = session.realms().getRealm(event.getRealmId());
            if (realm == null || Protection.of(realm) == Protection.ON) {
                return;
            }
            RefreshGuard.of(session).alerts().protectionOff(session, realm, event, adminUsername(event));
        }

        private String adminUsername(AdminEvent event) {
            if (event.getAuthDetails() == null || event.getAuthDetails().getUserId() == null) {
                return null;
            }
            RealmModel adminRealm = session.realms().getRealm(event.getAuthDetails().getRealmId());
            UserModel admin = adminRealm == null ? null : session.users().getUserById(adminRealm, event.getAuthDetails().getUserId());
            return admin == null ? null : admin.getUsername();
        }

        @Override
        public void close() {
        }
    }
}
