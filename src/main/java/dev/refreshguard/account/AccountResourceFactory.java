package dev.refreshguard.account;

import org.keycloak.models.KeycloakSession;
import org.keycloak.services.resource.RealmResourceProvider;
import org.keycloak.services.resource.RealmResourceProviderFactory;

import dev.refreshguard.GuardProviderFactory;

/** Mounts the user's own refresh-guard page and API at {@code /realms/{realm}/refresh-guard/account}. */
public final class AccountResourceFactory implements RealmResourceProviderFactory, GuardProviderFactory<RealmResourceProvider> {

    @Override
    public RealmResourceProvider create(KeycloakSession session) {
        return new Provider(session);
    }

    private record Provider(KeycloakSession session) implements RealmResourceProvider {

        @Override
        public Object getResource() {
            return new AccountResource(session);
        }

        @Override
        public void close() {
        }
    }
}
