package dev.refreshguard.harness;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Injects the real Keycloak of this test run. Started on first use, shared by every test class, stopped when the
 * run ends. Backend: -Dit.backend=distribution (default) or testcontainers.
 */
public final class RealServer implements ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(RealServer.class);

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == KeycloakServer.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return server(context);
    }

    public static KeycloakServer server(ExtensionContext context) {
        return context.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent("server", key -> new Running(start()), Running.class).server;
    }

    private static KeycloakServer start() {
        String backend = System.getProperty("it.backend", "distribution");
        return switch (backend) {
            case "distribution" -> DistributionServer.startShared();
            case "testcontainers" -> ContainerServer.startIfDockerPresent();
            default -> throw new IllegalArgumentException("unknown it.backend '" + backend + "': use distribution or testcontainers");
        };
    }

    private record Running(KeycloakServer server) implements ExtensionContext.Store.CloseableResource {
        @Override
        public void close() {
            server.close();
        }
    }
}
