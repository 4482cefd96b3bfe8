package dev.refreshguard.family;

import org.jboss.logging.Logger;
import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.provider.ProviderEvent;
import org.keycloak.provider.ProviderEventListener;

import dev.refreshguard.spi.RefreshGuard;
import dev.refreshguard.store.FamilyCleanup.Owner;

/**
 * Deleting a user, a client or a realm deletes its families (with the addresses they hold) at once, in the
 * transaction of the deletion: if the deletion rolls back, so does this.
 */
final class FamilyRemoval implements ProviderEventListener {

    private static final Logger LOG = Logger.getLogger(FamilyRemoval.class);

    @Override
    public void onEvent(ProviderEvent event) {
        if (event instanceof UserModel.UserRemovedEvent removed) {
            delete(removed.getKeycloakSession(), Owner.USER, removed.getRealm().getId(), removed.getUser().getId());
        } else if (event instanceof ClientModel.ClientRemovedEvent removed) {
            ClientModel client = removed.getClient();
            delete(removed.getKeycloakSession(), Owner.CLIENT, client.getRealm().getId(), client.getId());
        } else if (event instanceof RealmModel.RealmRemovedEvent removed) {
            String realmId = removed.getRealm().getId();
            delete(removed.getKeycloakSession(), Owner.REALM, realmId, realmId);
        }
    }

    private static void delete(KeycloakSession session, Owner owner, String realmId, String ownerId) {
        int deleted = RefreshGuard.of(session).store().cleanup().deleteOf(owner, realmId, ownerId);
        if (deleted > 0) {
            LOG.debugf("deleted %d families of %s %s", deleted, owner, ownerId);
        }
    }
}
