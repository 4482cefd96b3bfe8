package dev.refreshguard.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.refreshguard.harness.Http.Reply;

/**
 * What one test class saw from the server: how many answers, how many 5xx, and every token it was given, so that
 * the class can prove afterwards that none of those tokens reached the server's log.
 */
public final class Witness {

    /** Any JWT: base64url JSON header, base64url JSON payload, signature (possibly empty). */
    public static final Pattern JWT = Pattern.compile("eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]*");
    private static final List<String> TOKEN_FIELDS = List.of("access_token", "refresh_token", "id_token");

    private final AtomicInteger answers = new AtomicInteger();
    private final AtomicInteger fiveXx = new AtomicInteger();
    private final List<String> fiveXxSamples = java.util.Collections.synchronizedList(new ArrayList<>());
    private final Set<String> tokens = ConcurrentHashMap.newKeySet();

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
                String token = reply.text(field);
                if (token != null) {
                    tokens.add(token);
                }
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

    /** The leaks found in these logs: every signature segment of a token this witness saw, and any JWT at all. */
    public Leaks leaksIn(Collection<Path> logs) {
        Set<String> signatures = new HashSet<>();
        for (String token : tokens) {
            String signature = Jwt.signature(token);
            if (signature.length() >= 32) {
                signatures.add(signature);
            }
        }
        List<String> found = new ArrayList<>();
        long bytes = 0;
        for (Path log : logs) {
            String text = read(log);
            bytes += text.length();
            for (String signature : signatures) {
                if (text.contains(signature)) {
                    found.add(log.getFileName() + ": signature of a token the tests received (" + signature.substring(0, 8) + "…)");
                }
            }
            Matcher jwt = JWT.matcher(text);
            while (jwt.find()) {
                found.add(log.getFileName() + ": a JWT (" + jwt.group().substring(0, Math.min(24, jwt.group().length())) + "…)");
            }
        }
        return new Leaks(signatures.size(), bytes, found);
    }

    /** The figures every class reports about what it saw: answers, tokens looked for in the logs, leaks found. */
    public Map<String, Object> figures(Leaks leaks) {
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("answers", answers());
        figures.put("tokensCheckedInLogs", leaks.signaturesChecked());
        figures.put("logChars", leaks.logChars());
        figures.put("leaks", leaks.found());
        return figures;
    }

    /** Fails if any answer was a 5xx or any token reached the logs. */
    public void assertNoFiveXxAndNoLeaks(Leaks leaks) {
        org.assertj.core.api.Assertions.assertThat(fiveXxAnswers()).as("5xx answers").isEmpty();
        org.assertj.core.api.Assertions.assertThat(leaks.found()).as("tokens in the logs").isEmpty();
    }

    private static String read(Path log) {
        try {
            return Files.exists(log) ? new String(Files.readAllBytes(log), StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The outcome of a log scan. */
    public record Leaks(int signaturesChecked, long logChars, List<String> found) {
    }
}
