package dev.refreshguard.harness;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one token-leak scanner: remembers the tokens a test was given and finds them in a channel's text (a log,
 * events, a letter) — the whole token, its header.payload, its payload, its signature, and any {@value #WINDOW}
 * characters of its signature (2^96 odds of a chance match), so that no part of a signature slips out either.
 * Safe to feed from many threads (racers).
 */
public final class TokenLeaks {

    public static final int WINDOW = 16;
    /** Any JWT: base64url JSON header, base64url JSON payload, signature (possibly empty). */
    public static final Pattern JWT = Pattern.compile("eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]*");
    /** Shorter parts (a forged token's stub signature) would match ordinary text by chance. */
    private static final int SHORTEST_PART = 32;
    private static final Pattern BASE64URL_RUN = Pattern.compile("[A-Za-z0-9_-]{" + WINDOW + ",}");

    private final Set<String> tokens = ConcurrentHashMap.newKeySet();
    /** Every window of every signature, to the token it belongs to. */
    private final Map<String, String> signatureWindows = new ConcurrentHashMap<>();

    /** Remembers every JWT among {@code values} (nulls and non-JWTs are skipped). */
    public TokenLeaks add(String... values) {
        for (String value : values) {
            if (value == null || value.split("\\.", -1).length != 3 || !tokens.add(value)) {
                continue;
            }
            String signature = Jwt.signature(value);
            if (signature.length() >= SHORTEST_PART) {
                for (int i = 0; i + WINDOW <= signature.length(); i++) {
                    signatureWindows.put(signature.substring(i, i + WINDOW), value);
                }
            }
        }
        return this;
    }

    /** How many distinct tokens are looked for. */
    public int size() {
        return tokens.size();
    }

    /** What of the remembered tokens {@code text} holds; each finding names the channel and a short prefix only. */
    public List<String> in(String channel, String text) {
        List<String> found = new ArrayList<>();
        for (String token : tokens) {
            String[] parts = token.split("\\.", -1);
            if (token.length() >= SHORTEST_PART && text.contains(token)) {
                found.add(channel + ": a token (" + prefix(token) + ")");
            } else if (parts[1].length() >= SHORTEST_PART && text.contains(parts[0] + "." + parts[1])) {
                found.add(channel + ": a token's header.payload (" + prefix(parts[1]) + ")");
            } else if (parts[1].length() >= SHORTEST_PART && text.contains(parts[1])) {
                found.add(channel + ": a token's payload (" + prefix(parts[1]) + ")");
            } else if (parts[2].length() >= SHORTEST_PART && text.contains(parts[2])) {
                found.add(channel + ": a token's signature (" + prefix(parts[2]) + ")");
            }
        }
        if (found.isEmpty()) {
            Matcher run = BASE64URL_RUN.matcher(text);
            while (run.find() && found.isEmpty()) {
                String candidate = run.group();
                for (int i = 0; i + WINDOW <= candidate.length(); i++) {
                    if (signatureWindows.containsKey(candidate.substring(i, i + WINDOW))) {
                        found.add(channel + ": part of a token's signature (" + prefix(candidate.substring(i)) + ")");
                        break;
                    }
                }
            }
        }
        return found;
    }

    /** Every JWT at all in {@code text}, whoever it was issued to. */
    public static List<String> jwtsIn(String channel, String text) {
        List<String> found = new ArrayList<>();
        Matcher jwt = JWT.matcher(text);
        while (jwt.find()) {
            found.add(channel + ": a JWT (" + prefix(jwt.group()) + ")");
        }
        return found;
    }

    /** Fails when {@code text} holds any remembered token or any part of its signature. */
    public void assertNoneIn(String channel, String text) {
        List<String> found = in(channel, text);
        if (!found.isEmpty()) {
            throw new AssertionError(channel + " holds a token: " + found);
        }
    }

    /** Enough to find the token again in the test's own output, too little to use it. */
    private static String prefix(String value) {
        return value.substring(0, Math.min(8, value.length())) + "…";
    }
}
