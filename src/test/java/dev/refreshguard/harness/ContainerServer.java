package dev.refreshguard.harness;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dasniko.testcontainers.keycloak.KeycloakContainer;

/**
 * The second backend: quay.io/keycloak/keycloak:26.7.3 (official, or the leg's stand-in: {@link ContainerImages})
 * with the freshly built JAR, through testcontainers-keycloak, as an extension author runs it. Selected with
 * -Dit.backend=testcontainers (leg 4 does); the class is skipped where no Docker engine can run.
 */
public final class ContainerServer implements KeycloakServer {

    private final KeycloakContainer container;
    private final Path log;

    private ContainerServer(KeycloakContainer container, Path log) {
        this.container = container;
        this.log = log;
    }

    public static ContainerServer start(ContainerImages images) {
        KeycloakContainer container = new KeycloakContainer(images.keycloak())
                .withAdminUsername(DistributionServer.ADMIN)
                .withAdminPassword(DistributionServer.ADMIN_PASSWORD)
                .withEnabledMetrics()
                // start-dev listens on localhost only inside the container: the published port needs all interfaces.
                .withEnv("KC_HTTP_HOST", "0.0.0.0")
                .withProviderLibsFrom(List.of(new File(System.getProperty("guard.jar"))));
        container.start();
        Path log = Path.of(System.getProperty("it.work.dir", "target/it"), "keycloak-container.log");
        return new ContainerServer(container, log);
    }

    @Override
    public String baseUrl() {
        return container.getAuthServerUrl();
    }

    @Override
    public String managementUrl() {
        return container.getMgmtServerUrl();
    }

    @Override
    public Path logFile() {
        try {
            Files.createDirectories(log.getParent());
            Files.writeString(log, container.getLogs());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return log;
    }

    @Override
    public void restart() {
        throw new UnsupportedOperationException("restarts are tested on the distribution backend");
    }

    @Override
    public String jdbcUrl() {
        return null;
    }

    @Override
    public void close() {
        container.stop();
    }
}
