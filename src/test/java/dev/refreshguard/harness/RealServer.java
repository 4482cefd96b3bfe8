package dev.refreshguard.harness;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Injects the real Keycloak of this test run. Started on first use, shared by every test class, stopped when the
 * run ends. Backend: -Dit.backend=distribution (default) or testcontainers; the latter skips every class, with one
 * line on the console, where Docker is absent. The distribution runs on the database -Dit.db names
 * ({@link Database}); where that database is absent (MariaDB not on 127.0.0.1:3306) every class is skipped, with
 * one line on the console.
 */
public final class RealServer implements ParameterResolver, ExecutionCondition {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(RealServer.class);

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == KeycloakServer.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return server(context);
    }

    /** Skips (rather than fails) when the chosen backend cannot run here; checked once per run. */
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if (!"testcontainers".equals(System.getProperty("it.backend", "distribution"))) {
            String missing = context.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent("database", key -> {
                String reason = Database.selected().unavailable().orElse("");
                if (!reason.isEmpty()) {
                    System.out.println("[refresh-guard] " + reason);
                }
                return reason;
            }, String.class);
            return missing.isEmpty() ? ConditionEvaluationResult.enabled("database available")
                    : ConditionEvaluationResult.disabled(missing);
        }
        boolean docker = context.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent("docker", key -> ContainerServer.dockerPresent(), Boolean.class);
        return docker ? ConditionEvaluationResult.enabled("Docker present")
                : ConditionEvaluationResult.disabled(ContainerServer.NO_DOCKER);
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
