package dev.refreshguard.family;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.keycloak.Config;
import org.keycloak.connections.jpa.entityprovider.JpaEntityProvider;
import org.keycloak.connections.jpa.entityprovider.JpaEntityProviderFactory;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.provider.ProviderConfigProperty;

import dev.refreshguard.GuardProviderFactory;
import dev.refreshguard.RefreshGuard;

/**
 * The family store's server-wide life: registers the family table's Liquibase changelog with Keycloak (which creates
 * and upgrades it at startup in whatever database the server uses; the ledger uses plain SQL, so no entities),
 * deletes families with their user, client or realm, and schedules the purge task. Its options are this factory's:
 * {@code --spi-jpa-entity-provider--refresh-guard--<option>}.
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
            return RefreshGuard.PROVIDER_ID;
        }

        @Override
        public void close() {
        }
    };

    private PurgeSettings purge;

    @Override
    public JpaEntityProvider create(KeycloakSession session) {
        return SCHEMA;
    }

    @Override
    public void init(Config.Scope config) {
        purge = PurgeSettings.from(config);
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
        factory.register(new FamilyRemoval());
        FamilyPurgeTask.schedule(factory, purge);
    }

    @Override
    public List<ProviderConfigProperty> getConfigMetadata() {
        return PurgeSettings.metadata();
    }

    @Override
    public Map<String, String> getOperationalInfo() {
        Map<String, String> info = new LinkedHashMap<>(RefreshGuard.info());
        info.putAll(purge.info());
        return info;
    }
}
