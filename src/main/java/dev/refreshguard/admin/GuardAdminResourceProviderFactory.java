package dev.refreshguard.admin;

import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.services.resources.admin.AdminEventBuilder;
import org.keycloak.services.resources.admin.ext.AdminRealmResourceProvider;
import org.keycloak.services.resources.admin.ext.AdminRealmResourceProviderFactory;
import org.keycloak.services.resources.admin.fgap.AdminPermissionEvaluator;

import dev.refreshguard.GuardProviderFactory;

/** Mounts refresh-guard's admin REST resource at {@code /admin/realms/{realm}/refresh-guard}. */
public final class GuardAdminResourceProviderFactory implements AdminRealmResourceProviderFactory, GuardProviderFactory<AdminRealmResourceProvider> {

    @Override
    public AdminRealmResourceProvider create(KeycloakSession session) {
        return new Provider();
    }

    private static final class Provider implements AdminRealmResourceProvider {

        @Override
        public Object getResource(KeycloakSession session, RealmModel realm, AdminPermissionEvaluator auth,
                                  AdminEventBuilder adminEvent) {
            return new GuardAdminResource(session, realm, auth, adminEvent);
        }

        @Override
        public void close() {
        }
    }
}
