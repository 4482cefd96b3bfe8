package dev.refreshguard.family;

import java.util.List;

import org.keycloak.connections.jpa.entityprovider.JpaEntityProvider;
import org.keycloak.connections.jpa.entityprovider.JpaEntityProviderFactory;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;

import dev.refreshguard.GuardProviderFactory;
import dev.refreshguard.Jar;

/**
 * The family store's server-wide life: registers the family table's Liquibase changelog with Keycloak (which creates
 * and upgrades it at startup in whatever database the server uses; the store uses plain SQL, so no entities),
 * deletes families with their user, client or realm, and schedules the purge task with the server options of the
 * {@code refresh-guard} SPI.
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
            return Jar.PROVIDER_ID;
        }

        @Override
        public void close() {
        }
    };

    @Override
    public JpaEntityProvider create(KeycloakSession session) {
        return SCHEMA;
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
        factory.register(new FamilyRemoval());
        FamilyPurgeTask.schedule(factory);
    }
}
