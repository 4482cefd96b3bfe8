package dev.refreshguard.bench.onewrite;

import org.keycloak.Config;
import org.keycloak.events.EventListenerProvider;
import org.keycloak.events.EventListenerProviderFactory;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;

/**
 * The benchmark's reference realm, test code only: Keycloak without any reuse detection, plus exactly one durable
 * write per refresh of a row the size of a family's, in the request's own transaction — what refresh-guard's ledger
 * writes, without the ledger. Packed into a provider JAR of its own by the benchmark ({@code OneWriteJar}); never
 * part of the product JAR.
 */
public final class OneWriteListenerFactory implements EventListenerProviderFactory {

    public static final String ID = "bench-one-write";
    /** Where the benchmark's SQL count finds this provider's statements (logged at DEBUG, as the ledger's are). */
    public static final String SQL_LOG_CATEGORY = "dev.refreshguard.bench.sql";

    @Override
    public EventListenerProvider create(KeycloakSession session) {
        return new OneWriteListener(session);
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
        return ID;
    }
}
