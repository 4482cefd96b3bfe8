package dev.refreshguard.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

import jakarta.persistence.EntityManager;

import org.junit.jupiter.api.Test;

/**
 * Every part of the store that writes asks for a synchronous commit: Keycloak (PostgreSQL) otherwise commits a
 * transaction whose only entity writes are sessions and events with {@code synchronous_commit} off, and a database
 * crash right after could lose a rotation already answered 200 (DatabaseRestartIT). Reads ask for nothing.
 */
class SyncCommitTest {

    @Test
    void everyWritingPartRequiresASynchronousCommit() {
        for (Consumer<Store> part : java.util.List.<Consumer<Store>>of(Store::ledger, Store::revocations, Store::cleanup, Store::schedule)) {
            Map<String, Object> properties = new HashMap<>();
            part.accept(new Store(recording(properties), () -> null, 5));
            // the key Keycloak 26.x's org.keycloak.connections.jpa.AsyncCommitIntegrator reads
            assertThat(properties).containsEntry("kc.sync_commit_required", Boolean.TRUE);
        }
    }

    @Test
    void readsLeaveKeycloaksCommitAlone() {
        Map<String, Object> properties = new HashMap<>();
        Store store = new Store(recording(properties), () -> null, 5);
        store.queries();
        store.keycloakTables();
        assertThat(properties).isEmpty();
    }

    /** An entity manager that only records the properties set on it. */
    private static EntityManager recording(Map<String, Object> properties) {
        return (EntityManager) Proxy.newProxyInstance(EntityManager.class.getClassLoader(), new Class<?>[] {EntityManager.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("setProperty")) {
                        properties.put((String) args[0], args[1]);
                    }
                    return null;
                });
    }
}
