package dev.refreshguard.harness;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs a class only where the database of this run ({@link Database#selected()}) is there, decided once per run:
 * where nothing answers at its address every class is skipped and one line on the console says so; where something
 * answers but refuses the harness's login every class fails with that reason (a leg that is expected here never
 * turns into skips). {@link RealServer} applies it; a class that starts servers of its own names it itself.
 */
public final class DatabaseCondition implements ExecutionCondition {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(DatabaseCondition.class);

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        // Computed once per run, a failure too: the store hands the same exception to every later class.
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
}
