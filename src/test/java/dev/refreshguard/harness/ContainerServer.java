package dev.refreshguard.harness;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Assumptions;
import org.testcontainers.DockerClientFactory;

import dasniko.testcontainers.keycloak.KeycloakContainer;

/**
 * The second backend: the official image quay.io/keycloak/keycloak:26.7.3 with the JAR, through
 * testcontainers-keycloak. Selected with -Dit.backend=testcontainers; skips itself where Docker is absent.
 */
public final class ContainerServer implements KeycloakServer {

    public static final String IMAGE = "quay.io/keycloak/keycloak:" + System.getProperty("keycloak.version", "26.7.3");

    private final KeycloakContainer container;
    private final Path log;

    private ContainerServer(KeycloakContainer container, Path log) {
        this.container = container;
        this.log = log;
    }

    public static final String NO_DOCKER = "testcontainers backend skipped: no Docker engine on this machine";

    /** Asks testcontainers once; says so in one line when there is no Docker. */
    static boolean dockerPresent() {
        boolean docker;
        try {
            docker = DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException e) {
            docker = false;
        }
        if (!docker) {
            System.out.println(NO_DOCKER);
        }
        return docker;
    }

    public static ContainerServer startIfDockerPresent() {
        Assumptions.assumeTrue(dockerPresent(), NO_DOCKER);
        KeycloakContainer container = new KeycloakContainer(IMAGE)
                .withAdminUsername(DistributionServer.ADMIN)
                .withAdminPassword(DistributionServer.ADMIN_PASSWORD)
                .withEnabledMetrics()
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
