package dev.refreshguard.reliability;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.Oidc;

/**
 * Clients refreshing in a loop while a fault happens, each with its own family: a client keeps its token on any
 * failure and takes the new one on a 200, as a well-behaved client does. Requests go round-robin over the targets
 * (nodes behind a load balancer), skipping those {@link #takeOut taken out}, as a load balancer's health check does.
 * Every answer is recorded with its start and end ({@link System#nanoTime()}).
 */
final class Storm {

    /** One request: which client, on which target, when, and its status (-1: no HTTP answer at all). */
    record Answer(int client, int target, long start, long end, int status, String error, int generation) {
        Duration elapsed() {
            return Duration.ofNanos(end - start);
        }

        boolean startedIn(long from, long to) {
            return start >= from && end <= to;
        }
    }

    private final List<Oidc> targets;
    private final List<AtomicReference<String>> tokens = new ArrayList<>();
    private final List<AtomicLong> attempts = new ArrayList<>();
    private final Set<Integer> out = ConcurrentHashMap.newKeySet();
    private final Queue<Answer> answers = new ConcurrentLinkedQueue<>();
    private final ScheduledExecutorService pool;

    private Storm(List<String> firstTokens, List<Oidc> targets, Duration pace) {
        this.targets = List.copyOf(targets);
        pool = Executors.newScheduledThreadPool(firstTokens.size());
        for (int i = 0; i < firstTokens.size(); i++) {
            tokens.add(new AtomicReference<>(firstTokens.get(i)));
            attempts.add(new AtomicLong());
            int client = i;
            pool.scheduleWithFixedDelay(() -> answers.add(refresh(client)), 0, pace.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Starts one client per token, each refreshing every {@code pace} (after its previous answer). */
    static Storm start(List<String> firstTokens, List<Oidc> targets, Duration pace) {
        return new Storm(firstTokens, targets, pace);
    }

    int clients() {
        return tokens.size();
    }

    /** The client's newest token: the one it would present next. */
    String token(int client) {
        return tokens.get(client).get();
    }

    /** No further request goes to this target (index into the targets). */
    void takeOut(int target) {
        out.add(target);
    }

    List<Answer> answers() {
        return List.copyOf(answers);
    }

    /** Stops the clients and waits until their last requests ended (answered, not interrupted). */
    void stop() {
        pool.shutdown();
        Await.until(Duration.ofSeconds(70), "the storm's last requests to end", pool::isTerminated);
    }

    /** How many clients got a 200 for a request started at or after {@code since}. */
    long servedSince(long since) {
        return answers.stream().filter(a -> a.start >= since && a.status == 200).map(Answer::client).distinct().count();
    }

    boolean everyClientServedSince(long since) {
        return servedSince(since) >= clients();
    }

    /** When the first 200 of a request started at or after {@code since} ended. */
    long firstServed(long since) {
        return answers.stream().filter(a -> a.start >= since && a.status == 200).mapToLong(Answer::end).min().orElseThrow();
    }

    /** When the last client got its first 200 for a request started at or after {@code since}. */
    long lastFirstServed(long since) {
        long last = since;
        for (int client = 0; client < clients(); client++) {
            int c = client;
            last = Math.max(last, answers.stream().filter(a -> a.client == c && a.start >= since && a.status == 200)
                    .mapToLong(Answer::end).min().orElse(Long.MAX_VALUE));
        }
        return last;
    }

    private Answer refresh(int client) {
        int target = route(client);
        long start = System.nanoTime();
        int status;
        String error = null;
        int generation = -1;
        try {
            Reply reply = targets.get(target).refresh(tokens.get(client).get());
            status = reply.status();
            if (status == 200) {
                tokens.get(client).set(reply.text("refresh_token"));
                generation = Oidc.claims(reply.text("refresh_token")).path("rg_gen").asInt(-1);
            } else {
                error = reply.text("error");
            }
        } catch (RuntimeException noAnswer) {
            status = -1; // refused or reset: the node is gone
        }
        return new Answer(client, target, start, System.nanoTime(), status, error, generation);
    }

    private int route(int client) {
        long attempt = attempts.get(client).getAndIncrement();
        for (int i = 0; i < targets.size(); i++) {
            int target = (int) ((client + attempt + i) % targets.size());
            if (!out.contains(target)) {
                return target;
            }
        }
        throw new IllegalStateException("every target taken out");
    }
}
