package dev.refreshguard.harness;

import java.util.Optional;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * The container leg's classes: run where a Docker engine answers or can be started ({@link Docker#setUp()}, once
 * per run), skipped with one line on the console where none can. Injects the run's {@link ContainerImages} and
 * {@link ComposeStack} (started on first use).
 */
public final class ContainerLeg implements ExecutionCondition, ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(ContainerLeg.class);

    private record Engine(Optional<Docker> docker, ContainerImages images) {
    }

    static Optional<ContainerImages> images(ExtensionContext context) {
        Engine engine = context.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent("engine", key -> {
            Optional<Docker> docker = Docker.setUp();
            return new Engine(docker, docker.map(ContainerImages::new).orElse(null));
        }, Engine.class);
        return Optional.ofNullable(engine.images());
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        return images(context).isPresent() ? ConditionEvaluationResult.enabled("a Docker engine answers")
                : ConditionEvaluationResult.disabled(Docker.SKIPPED);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == ContainerImages.class || type == ComposeStack.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == ComposeStack.class ? ComposeStack.of(context) : images(context).orElseThrow();
    }
}
