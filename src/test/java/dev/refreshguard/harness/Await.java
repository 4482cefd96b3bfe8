package dev.refreshguard.harness;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
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

    /**
     * Polls the condition for the whole window and fails as soon as it does not hold: what a "nothing more happens"
     * check needs, where one look would miss what arrives a moment later.
     */
    public static void holdsFor(Duration window, String what, BooleanSupplier condition) {
        Instant end = Instant.now().plus(window);
        do {
            if (!condition.getAsBoolean()) {
                throw new AssertionError("within " + window + " this stopped holding: " + what);
            }
            LockSupport.parkNanos(POLL_NANOS);
        } while (Instant.now().isBefore(end));
        if (!condition.getAsBoolean()) {
            throw new AssertionError("at the end of " + window + " this no longer holds: " + what);
        }
    }

    /** How long an "exactly one" check keeps looking for a second one after the first arrived. */
    public static final Duration SETTLE = Duration.ofSeconds(3);

    /**
     * Exactly one element: waits (up to {@code timeout}) for the first, then keeps polling for {@link #SETTLE} so
     * that a duplicate arriving a moment later fails the check; returns the one.
     */
    public static <T> T exactlyOne(Duration timeout, String what, Supplier<List<T>> supplier) {
        return exactly(1, timeout, what, supplier).get(0);
    }

    /**
     * Exactly {@code count} elements (0 included): waits (up to {@code timeout}) until there are at least that many,
     * then keeps polling for {@link #SETTLE}, failing as soon as there are more or fewer; returns the last look.
     */
    public static <T> List<T> exactly(int count, Duration timeout, String what, Supplier<List<T>> supplier) {
        List<T> first = value(timeout, count + " of " + what, () -> {
            List<T> found = supplier.get();
            return found.size() >= count ? found : null;
        });
        if (first.size() != count) {
            throw new AssertionError("expected exactly " + count + " of " + what + ", found " + first.size() + ": " + first);
        }
        List<List<T>> last = new java.util.ArrayList<>(List.of(first));
        holdsFor(SETTLE, "exactly " + count + " of " + what, () -> {
            List<T> now = supplier.get();
            last.set(0, now);
            return now.size() == count;
        });
        return last.get(0);
    }

    /** Until the wall clock has passed {@code epochSecond} (the server's clock is this machine's). */
    public static void pastEpochSecond(long epochSecond) {
        until(Duration.ofSeconds(Math.max(5, epochSecond - Instant.now().getEpochSecond() + 5)),
                "the clock to pass " + epochSecond, () -> Instant.now().getEpochSecond() > epochSecond);
    }
}
