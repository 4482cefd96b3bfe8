package dev.refreshguard.harness;

import java.nio.file.Path;

/** A real Keycloak 26.7.3 with the freshly built JAR in providers/, started once per test run. */
public interface KeycloakServer extends AutoCloseable {

    /** e.g. http://localhost:8180 */
    String baseUrl();

    /** The management interface (health, metrics), e.g. http://localhost:9100 */
    String managementUrl();

    /** The server's log, as far as it has been written. */
    Path logFile();

    /** Stops and starts the server again, keeping its database. Containers cannot: restarts are tested on the distribution. */
    default void restart() {
        throw new UnsupportedOperationException("restarts are tested on the distribution backend");
    }

    /** The address the server sees this test's requests come from (its events' ipAddress): loopback, or a container's gateway. */
    default String clientAddress() {
        return "127.0.0.1";
    }

    /** A JDBC URL of the server's database, for assertions on stored state; null when not reachable (a container's). */
    default String jdbcUrl() {
        return null;
    }

    @Override
    void close();
}
