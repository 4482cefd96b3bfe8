package dev.refreshguard.family;

import jakarta.persistence.EntityManager;

import org.jboss.logging.Logger;
import org.keycloak.connections.jpa.JpaConnectionProvider;
import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.provider.ProviderEvent;
import org.keycloak.provider.ProviderEventListener;

/**
 * Deleting a user, a client or a realm deletes its families (with the addresses they hold) at once, in the
 * transaction of the deletion: if the deletion rolls back, so does this.
 */
final class FamilyRemoval implements ProviderEventListener {

    private static final Logger LOG = Logger.getLogger(FamilyRemoval.class);

    @Override
    public void onEvent(ProviderEvent event) {
        if (event instanceof UserModel.UserRemovedEvent removed) {
            delete(removed.getKeycloakSession(), "USER_ID", removed.getRealm().getId(), removed.getUser().getId());
        } else if (event instanceof ClientModel.ClientRemovedEvent removed) {
            ClientModel client = removed.getClient();
            delete(removed.getKeycloakSession(), "CLIENT_ID", client.getRealm().getId(), client.getId());
        } else if (event instanceof RealmModel.RealmRemovedEvent removed) {
            String realmId = removed.getRealm().getId();
            delete(removed.getKeycloakSession(), "REALM_ID", realmId, realmId);
        }
    }

    /** Deletes the realm's families whose {@code column} (USER_ID, CLIENT_ID or REALM_ID itself) is {@code key}. */
    private static void delete(KeycloakSession session, String column, String realmId, String key) {
        EntityManager em = session.getProvider(JpaConnectionProvider.class).getEntityManager();
        int deleted = em.createNativeQuery("DELETE FROM RG_FAMILY WHERE REALM_ID = :realm AND " + column + " = :key")
                .setParameter("realm", realmId)
                .setParameter("key", key)
                .executeUpdate();
        if (deleted > 0) {
            LOG.debugf("deleted %d families with %s %s", deleted, column, key);
        }
    }
}
