package dev.refreshguard.harness;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import dev.refreshguard.harness.Http.Reply;

/**
 * What one test class saw from the server: how many answers, how many 5xx, and every token it was given, so that
 * the class can prove afterwards that none of those tokens reached the server's log.
 */
public final class Witness {

    private static final List<String> TOKEN_FIELDS = List.of("access_token", "refresh_token", "id_token");

    private final AtomicInteger answers = new AtomicInteger();
    private final AtomicInteger fiveXx = new AtomicInteger();
    private final List<String> fiveXxSamples = java.util.Collections.synchronizedList(new ArrayList<>());
    private final TokenLeaks tokens = new TokenLeaks();

    /** Records an answer (and its tokens) and returns it. */
    public Reply saw(Reply reply) {
        answers.incrementAndGet();
        if (reply.status() >= 500) {
            fiveXx.incrementAndGet();
            if (fiveXxSamples.size() < 20) {
                fiveXxSamples.add(reply.toString());
            }
        }
        if (reply.json() != null && reply.json().isObject()) {
            for (String field : TOKEN_FIELDS) {
                tokens.add(reply.text(field));
            }
        }
        return reply;
    }

    /** Records an answer the test needs to go on with (a login, a first refresh): anything but 200 fails the test. */
    public Reply ok(Reply reply) {
        saw(reply);
        org.assertj.core.api.Assertions.assertThat(reply.status()).as("setup request: %s", reply).isEqualTo(200);
        return reply;
    }

    /** A token the test got elsewhere (e.g. one it forged). */
    public void token(String token) {
        tokens.add(token);
    }

    public int answers() {
        return answers.get();
    }

    public int fiveXx() {
        return fiveXx.get();
    }

    public List<String> fiveXxAnswers() {
        return List.copyOf(fiveXxSamples);
    }

    public int tokens() {
        return tokens.size();
    }

    /** The leaks found in these logs: any part of a token this witness saw ({@link TokenLeaks}), and any JWT at all. */
    public Leaks leaksIn(Collection<Path> logs) {
        List<String> found = new ArrayList<>();
        List<String> serverErrors = new ArrayList<>();
        long chars = 0;
        for (Path log : logs) {
            ServerLog serverLog = new ServerLog(log);
            serverErrors.addAll(serverLog.uncaughtErrors());
            String text = serverLog.text();
            chars += text.length();
            found.addAll(tokens.in(log.getFileName().toString(), text));
            found.addAll(TokenLeaks.jwtsIn(log.getFileName().toString(), text));
        }
        return new Leaks(tokens.size(), chars, found, serverErrors);
    }

    /** The figures every class reports about what it saw: answers, tokens looked for in the logs, leaks found. */
    public Map<String, Object> figures(Leaks leaks) {
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("answers", answers());
        figures.put("tokensCheckedInLogs", leaks.tokensChecked());
        figures.put("logChars", leaks.logChars());
        figures.put("leaks", leaks.found());
        return figures;
    }

    /** Fails if any answer was a 5xx or any token reached the logs. */
    public void assertNoFiveXxAndNoLeaks(Leaks leaks) {
        org.assertj.core.api.Assertions.assertThat(fiveXxAnswers())
                .as("5xx answers (the servers logged these uncaught errors: %s)", leaks.serverErrors()).isEmpty();
        org.assertj.core.api.Assertions.assertThat(leaks.found()).as("tokens in the logs").isEmpty();
    }

    /** The outcome of a log scan: tokens found, and the server's uncaught errors (the 500s it logged). */
    public record Leaks(int tokensChecked, long logChars, List<String> found, List<String> serverErrors) {
    }
}
