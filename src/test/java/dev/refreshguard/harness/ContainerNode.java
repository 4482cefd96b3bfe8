package dev.refreshguard.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** A Keycloak running in a Docker container, reached through its published ports on localhost. */
public final class ContainerNode implements KeycloakServer {

    private final Docker docker;
    private final String container;
    private final int port;
    private final int managementPort;

    ContainerNode(Docker docker, String container, int port, int managementPort) {
        this.docker = docker;
        this.container = container;
        this.port = port;
        this.managementPort = managementPort;
    }

    public String container() {
        return container;
    }

    /** Ready as its health check says, from the host: the management port's /health/ready answers 200. */
    void awaitReady(Duration timeout) {
        Http http = new Http();
        Await.until(timeout, container + " ready on " + managementUrl() + "/health/ready (log: " + logPath() + ")", () -> {
            try {
                return http.get(managementUrl() + "/health/ready", null).status() == 200;
            } catch (RuntimeException e) {
                return false;
            }
        });
    }

    @Override
    public String baseUrl() {
        return "http://localhost:" + port;
    }

    /** Requests from the host reach the container through its network's gateway. */
    @Override
    public String clientAddress() {
        return docker.docker(Duration.ofMinutes(1), "inspect", "--format", "{{range .NetworkSettings.Networks}}{{.Gateway}}{{end}}",
                container).orFail("docker inspect " + container).output().strip();
    }

    @Override
    public String managementUrl() {
        return "http://localhost:" + managementPort;
    }

    private Path logPath() {
        return docker.work().resolve(container + ".log");
    }

    /** The container's output so far (docker logs), written to target/container/NAME.log. */
    @Override
    public Path logFile() {
        Path log = logPath();
        try {
            Files.createDirectories(log.getParent());
            Files.writeString(log, docker.docker(Duration.ofMinutes(1), "logs", container).output());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return log;
    }

    @Override
    public void close() {
        // the stack that started the container removes it
    }
}
