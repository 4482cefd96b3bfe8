package dev.refreshguard.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import dev.refreshguard.harness.KeycloakServer;

/**
 * Refresh chains from N concurrent clients over one realm: each client logged in once and refreshes with the newest
 * refresh token it holds, round after round. A round releases every client at once and lasts until the last one
 * has made its refreshes; its wall time is what throughput is measured against.
 */
final class RefreshRounds implements AutoCloseable {

    /** One client application of one realm and the refresh-token chain it keeps. */
    private static final class Chain {
        private final TokenClient client;
        private final String username;
        private String refreshToken;

        Chain(TokenClient client, String username) {
            this.client = client;
            this.username = username;
        }

        void login() {
            TokenClient.Answer answer = client.password(username, username);
            if (answer.status() != 200) {
                throw new IllegalStateException("login of " + username + " failed: " + answer.status() + " " + answer.body());
            }
            refreshToken = answer.refreshToken();
        }

        /** {@code chain} refreshes, each with the token the previous one returned. */
        void run(int chain, Latencies into) {
            for (int i = 0; i < chain; i++) {
                TokenClient.Answer answer = client.refresh(refreshToken);
                String next = answer.refreshToken();
                if (next == null) {
                    // Counted, not hidden; a new login keeps the chain going so one failure does not end the run.
                    into.error();
                    login();
                    continue;
                }
                into.add(answer.nanos());
                refreshToken = next;
            }
        }
    }

    final String label;
    private final List<Chain> chains = new ArrayList<>();
    private final ExecutorService pool;
    private int errors;
    private int served;

    RefreshRounds(KeycloakServer server, String label, String realm, String clientId, List<String> usernames) {
        this.label = label;
        for (String username : usernames) {
            chains.add(new Chain(new TokenClient(server, realm, clientId), username));
        }
        this.pool = Executors.newFixedThreadPool(usernames.size(), r -> {
            Thread t = new Thread(r, "bench-" + label);
            t.setDaemon(true);
            return t;
        });
    }

    void loginAll() {
        chains.forEach(Chain::login);
    }

    /** One round: every client at once, {@code chain} refreshes each. */
    Latencies round(int chain) {
        Latencies round = new Latencies();
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> running = new ArrayList<>();
        for (Chain c : chains) {
            running.add(pool.submit(() -> {
                go.await();
                c.run(chain, round);
                return null;
            }));
        }
        long start = System.nanoTime();
        go.countDown();
        for (Future<?> f : running) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            } catch (ExecutionException e) {
                throw new IllegalStateException("a client of " + label + " failed", e.getCause());
            }
        }
        round.addWall(System.nanoTime() - start);
        errors += round.stats().errors();
        served += round.stats().requests();
        return round;
    }

    /** Refreshes that failed in every round so far, unmeasured warm-up rounds included. */
    int errors() {
        return errors;
    }

    /** Refreshes answered with a new refresh token in every round so far, unmeasured warm-up rounds included. */
    int served() {
        return served;
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
