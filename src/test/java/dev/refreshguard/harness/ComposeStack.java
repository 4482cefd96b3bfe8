package dev.refreshguard.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * docker/compose.yaml as an admin starts it (PostgreSQL and two Keycloak nodes from docker/Dockerfile's image), on
 * free host ports (RG_PORT_*), under a project name of its own, with one small override file for what the tests
 * need (a short purge interval). Started once per run for every class that asks, removed with its volume at the end.
 */
public final class ComposeStack implements ExtensionContext.Store.CloseableResource {

    /** The purge interval of both nodes in the stack, in seconds. */
    public static final int PURGE_INTERVAL = 3;
    private static final Duration UP = Duration.ofMinutes(10);
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(ComposeStack.class);

    private final Docker docker;
    private final Map<String, String> env;
    private final List<String> files;
    private ContainerNode node1;
    private ContainerNode node2;

    private ComposeStack(Docker docker, Map<String, String> env, List<String> files) {
        this.docker = docker;
        this.env = env;
        this.files = files;
    }

    /** The stack of this run, started on first use. */
    public static ComposeStack of(ExtensionContext context) {
        ContainerImages images = ContainerLeg.images(context).orElseThrow();
        return context.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent("stack", key -> start(images), ComposeStack.class);
    }

    private static ComposeStack start(ContainerImages images) {
        Docker docker = images.docker();
        images.postgres();
        images.guard();
        Path project = Path.of(System.getProperty("project.basedir", "."));
        Path override = docker.work().resolve("compose.it.yaml");
        String option = "KC_SPI_REFRESH_GUARD__REFRESH_GUARD__PURGE_INTERVAL";
        try {
            Files.createDirectories(override.getParent());
            Files.writeString(override, "# written by harness/ComposeStack: a short purge interval, to see one pass per interval\n"
                    + "services:\n"
                    + "  keycloak-1:\n    environment:\n      " + option + ": \"" + PURGE_INTERVAL + "\"\n"
                    + "  keycloak-2:\n    environment:\n      " + option + ": \"" + PURGE_INTERVAL + "\"\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int[] ports = freePorts(4);
        Map<String, String> env = new LinkedHashMap<>();
        env.put("COMPOSE_PROJECT_NAME", "rg-it-" + UUID.randomUUID().toString().substring(0, 8));
        env.put("RG_PORT_1", String.valueOf(ports[0]));
        env.put("RG_MANAGEMENT_PORT_1", String.valueOf(ports[1]));
        env.put("RG_PORT_2", String.valueOf(ports[2]));
        env.put("RG_MANAGEMENT_PORT_2", String.valueOf(ports[3]));
        List<String> files = List.of("-f", project.resolve("docker/compose.yaml").toString(), "-f", override.toString());
        ComposeStack stack = new ComposeStack(docker, env, files);
        Instant started = Instant.now();
        Docker.Result up = stack.compose(UP, "up", "-d");
        stack.node1 = stack.node("keycloak-1", ports[0], ports[1]);
        stack.node2 = stack.node("keycloak-2", ports[2], ports[3]);
        if (!up.ok()) {
            stack.saveLogs();
            stack.close();
            up.orFail(docker.composeName() + " up -d (logs: " + docker.work() + ")");
        }
        // up -d returns once keycloak-1 is healthy (keycloak-2 waits for it); node 2 may still be booting.
        stack.node1.awaitReady(UP);
        stack.node2.awaitReady(UP);
        System.out.println("[refresh-guard] docker/compose.yaml (" + docker.composeName() + ") up, both nodes ready in "
                + Duration.between(started, Instant.now()).toSeconds() + " s");
        return stack;
    }

    /** The container of a service, by id: v1 and v2 name containers differently. */
    private ContainerNode node(String service, int port, int managementPort) {
        String id = compose(Duration.ofMinutes(1), "ps", "-q", service).output().strip();
        String name = docker.docker(Duration.ofMinutes(1), "inspect", "--format", "{{.Name}}", id.isEmpty() ? service : id)
                .output().strip().replaceFirst("^/", "");
        return new ContainerNode(docker, id.isEmpty() || name.isEmpty() ? service : name, port, managementPort);
    }

    public ContainerNode node(int n) {
        return n == 1 ? node1 : node2;
    }

    private Docker.Result compose(Duration timeout, String... args) {
        List<String> command = new java.util.ArrayList<>(files);
        command.addAll(List.of(args));
        return docker.compose(timeout, env, command.toArray(String[]::new));
    }

    private void saveLogs() {
        for (ContainerNode node : new ContainerNode[] {node1, node2}) {
            if (node != null) {
                node.logFile();
            }
        }
        Path log = docker.work().resolve(env.get("COMPOSE_PROJECT_NAME") + "-compose.log");
        try {
            Files.writeString(log, compose(Duration.ofMinutes(1), "logs", "--no-color").output());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        saveLogs();
        compose(Duration.ofMinutes(3), "down", "-v", "--remove-orphans");
    }

    /** Distinct ports below the ephemeral range ({@link DistributionServer#freePort()}). */
    private static int[] freePorts(int n) {
        Set<Integer> ports = new LinkedHashSet<>();
        while (ports.size() < n) {
            ports.add(DistributionServer.freePort());
        }
        return ports.stream().mapToInt(Integer::intValue).toArray();
    }
}
