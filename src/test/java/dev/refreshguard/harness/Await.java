package dev.refreshguard.harness;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waits on a condition with a deadline: never a fixed sleep. */
public final class Await {

    private static final long POLL_NANOS = Duration.ofMillis(100).toNanos();

    private Await() {
    }

    public static void until(Duration timeout, String what, BooleanSupplier condition) {
        Instant deadline = Instant.now().plus(timeout);
        while (!condition.getAsBoolean()) {
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            }
            LockSupport.parkNanos(POLL_NANOS);
        }
    }

    public static <T> T value(Duration timeout, String what, Supplier<T> supplier) {
        Object[] holder = new Object[1];
        until(timeout, what, () -> (holder[0] = supplier.get()) != null);
        @SuppressWarnings("unchecked")
        T value = (T) holder[0];
        return value;
    }

    /** Until the wall clock has passed {@code epochSecond} (the server's clock is this machine's). */
    public static void pastEpochSecond(long epochSecond) {
        until(Duration.ofSeconds(Math.max(5, epochSecond - Instant.now().getEpochSecond() + 5)),
                "the clock to pass " + epochSecond, () -> Instant.now().getEpochSecond() > epochSecond);
    }
}
