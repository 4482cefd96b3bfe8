package dev.refreshguard.harness;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
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
        Path log = Path.of(System.getProperty("it.work.dir", "target/it"), "keycloak-container.log");
        try {
            Files.createDirectories(log.getParent());
            Files.deleteIfExists(log);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        KeycloakContainer container = new KeycloakContainer(images.keycloak())
                .withAdminUsername(DistributionServer.ADMIN)
                .withAdminPassword(DistributionServer.ADMIN_PASSWORD)
                .withEnabledMetrics()
                // start-dev listens on localhost only inside the container: the published port needs all interfaces.
                .withEnv("KC_HTTP_HOST", "0.0.0.0")
                .withProviderLibsFrom(List.of(new File(System.getProperty("guard.jar"))))
                // start-dev builds first: minutes on a small, busy machine (the library's default is 2)
                .withStartupTimeout(Duration.ofMinutes(8))
                // the output as it comes, so that a start that fails leaves its reason behind
                .withLogConsumer(frame -> append(log, frame.getUtf8String()));
        container.start();
        return new ContainerServer(container, log);
    }

    @Override
    public String baseUrl() {
        return container.getAuthServerUrl();
    }

    /** Requests from the host reach the container through its network's gateway. */
    @Override
    public String clientAddress() {
        return container.getContainerInfo().getNetworkSettings().getNetworks().values().iterator().next().getGateway();
    }

    @Override
    public String managementUrl() {
        return container.getMgmtServerUrl();
    }

    private static synchronized void append(Path log, String text) {
        try {
            Files.writeString(log, text, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The container's output so far, as the log consumer wrote it. */
    @Override
    public Path logFile() {
        return log;
    }

    @Override
    public void close() {
        container.stop();
    }
}
