package dev.refreshguard.admin;

import java.util.Map;

import org.keycloak.Config;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.provider.ServerInfoAwareProviderFactory;
import org.keycloak.services.resources.admin.AdminEventBuilder;
import org.keycloak.services.resources.admin.ext.AdminRealmResourceProvider;
import org.keycloak.services.resources.admin.ext.AdminRealmResourceProviderFactory;
import org.keycloak.services.resources.admin.fgap.AdminPermissionEvaluator;

import dev.refreshguard.GuardVersion;

/** Mounts refresh-guard's admin REST resource at {@code /admin/realms/{realm}/refresh-guard}. */
public final class GuardAdminResourceProviderFactory implements AdminRealmResourceProviderFactory, ServerInfoAwareProviderFactory {

    @Override
    public AdminRealmResourceProvider create(KeycloakSession session) {
        return new Provider();
    }

    @Override
    public void init(Config.Scope config) {
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
    }

    @Override
    public void close() {
    }

    @Override
    public String getId() {
        return GuardVersion.PROVIDER_ID;
    }

    @Override
    public Map<String, String> getOperationalInfo() {
        return GuardVersion.info();
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
