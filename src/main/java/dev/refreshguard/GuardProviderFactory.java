package dev.refreshguard;

import java.util.Map;

import org.keycloak.Config;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.provider.Provider;
import org.keycloak.provider.ProviderFactory;
import org.keycloak.provider.ServerInfoAwareProviderFactory;

/**
 * What every factory of this JAR shares: the id {@code refresh-guard}, the JAR version in the server info, and
 * no lifecycle unless a factory needs one.
 */
public interface GuardProviderFactory<T extends Provider> extends ProviderFactory<T>, ServerInfoAwareProviderFactory {

    @Override
    default String getId() {
        return Jar.PROVIDER_ID;
    }

    @Override
    default Map<String, String> getOperationalInfo() {
        return Jar.info();
    }

    @Override
    default void init(Config.Scope config) {
    }

    @Override
    default void postInit(KeycloakSessionFactory factory) {
    }

    @Override
    default void close() {
    }
}
