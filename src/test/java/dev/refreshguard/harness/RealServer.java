package dev.refreshguard.harness;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Injects the real Keycloak of this test run. Started on first use, shared by every test class, stopped when the
 * run ends. Backend: -Dit.backend=distribution (default) or testcontainers; the latter sets up a Docker engine
 * where it can and skips every class, with one line on the console, where none can run ({@link Docker}). The distribution runs on the database -Dit.db names
 * ({@link Database}); where that database is absent (nothing answers on MariaDB's 127.0.0.1:3306) every class is
 * skipped, with one line on the console, and where it answers but refuses the login every class fails
 * ({@link DatabaseCondition}).
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

    /** Skips when the chosen backend is absent here, fails when it is there but unusable; checked once per run. */
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if (!"testcontainers".equals(System.getProperty("it.backend", "distribution"))) {
            return new DatabaseCondition().evaluateExecutionCondition(context);
        }
        boolean docker = ContainerLeg.images(context).isPresent();
        return docker ? ConditionEvaluationResult.enabled("a Docker engine answers")
                : ConditionEvaluationResult.disabled(Docker.SKIPPED);
    }

    public static KeycloakServer server(ExtensionContext context) {
        return context.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent("server", key -> new Running(start(context)), Running.class).server;
    }

    private static KeycloakServer start(ExtensionContext context) {
        String backend = System.getProperty("it.backend", "distribution");
        return switch (backend) {
            case "distribution" -> DistributionServer.startShared();
            case "testcontainers" -> ContainerServer.start(ContainerLeg.images(context).orElseThrow());
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
