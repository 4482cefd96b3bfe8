package dev.refreshguard.harness;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntFunction;

/**
 * N requests released at once: one thread each from a fixed pool, all parked on a start gate until every one is
 * ready, every wait bounded.
 */
public final class Racers {

    private Racers() {
    }

    /** Runs {@code racer} for 0..n-1 at once and returns the results in racer order. */
    public static <T> List<T> race(int n, Duration timeout, IntFunction<T> racer) {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        CountDownLatch ready = new CountDownLatch(n);
        CountDownLatch gate = new CountDownLatch(1);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int index = i;
                futures.add(pool.submit(() -> {
                    ready.countDown();
                    if (!gate.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                        throw new TimeoutException("start gate never opened");
                    }
                    return racer.apply(index);
                }));
            }
            if (!ready.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("only " + (n - ready.getCount()) + " of " + n + " racers got ready within " + timeout);
            }
            gate.countDown();
            List<T> results = new ArrayList<>();
            for (Future<T> future : futures) {
                results.add(future.get(timeout.toMillis(), TimeUnit.MILLISECONDS));
            }
            return results;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new AssertionError("a racer failed", e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("a racer did not finish within " + timeout, e);
        } finally {
            pool.shutdownNow();
        }
    }
}
