package dev.refreshguard.family;

import java.util.List;

import org.keycloak.connections.jpa.entityprovider.JpaEntityProvider;
import org.keycloak.connections.jpa.entityprovider.JpaEntityProviderFactory;
import org.keycloak.models.KeycloakSession;

import dev.refreshguard.GuardProviderFactory;
import dev.refreshguard.GuardVersion;

/**
 * Registers the family table's Liquibase changelog with Keycloak, which creates and upgrades it at startup
 * in whatever database the server uses. The ledger reads and writes it with plain SQL, so no entities.
 */
public final class FamilySchemaProviderFactory implements JpaEntityProviderFactory, GuardProviderFactory<JpaEntityProvider> {

    private static final JpaEntityProvider SCHEMA = new JpaEntityProvider() {
        @Override
        public List<Class<?>> getEntities() {
            return List.of();
        }

        @Override
        public String getChangelogLocation() {
            return "META-INF/refresh-guard-changelog.xml";
        }

        @Override
        public String getFactoryId() {
            return GuardVersion.PROVIDER_ID;
        }

        @Override
        public void close() {
        }
    };

    @Override
    public JpaEntityProvider create(KeycloakSession session) {
        return SCHEMA;
    }
}
