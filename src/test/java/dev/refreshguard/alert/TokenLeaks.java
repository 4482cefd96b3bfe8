package dev.refreshguard.alert;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Looks for tokens in a channel's text: the whole token, its payload, its signature, and any {@value #WINDOW}
 * characters of its signature (2^96 odds of a chance match), so that no part of a signature slips out either.
 */
final class TokenLeaks {

    static final int WINDOW = 16;
    private static final Pattern BASE64URL_RUN = Pattern.compile("[A-Za-z0-9_-]{" + WINDOW + ",}");

    private final List<String> tokens = new ArrayList<>();
    /** Every window of every signature, to the token it belongs to. */
    private final Map<String, String> signatureWindows = new HashMap<>();

    /** Remembers every JWT among {@code values} (nulls and non-JWTs are skipped). */
    TokenLeaks add(String... values) {
        for (String value : values) {
            if (value == null || value.split("\\.").length != 3) {
                continue;
            }
            tokens.add(value);
            String signature = value.split("\\.")[2];
            for (int i = 0; i + WINDOW <= signature.length(); i++) {
                signatureWindows.put(signature.substring(i, i + WINDOW), value);
            }
        }
        return this;
    }

    int size() {
        return tokens.size();
    }

    void assertNoneIn(String channel, String text) {
        for (String token : tokens) {
            String[] parts = token.split("\\.");
            assertThat(text).as("%s holds a token", channel).doesNotContain(token);
            assertThat(text).as("%s holds a token's header.payload", channel).doesNotContain(parts[0] + "." + parts[1]);
            assertThat(text).as("%s holds a token's payload", channel).doesNotContain(parts[1]);
            assertThat(text).as("%s holds a token's signature", channel).doesNotContain(parts[2]);
        }
        Matcher run = BASE64URL_RUN.matcher(text);
        while (run.find()) {
            String candidate = run.group();
            for (int i = 0; i + WINDOW <= candidate.length(); i++) {
                String window = candidate.substring(i, i + WINDOW);
                if (signatureWindows.containsKey(window)) {
                    throw new AssertionError(channel + " holds part of a token's signature: '" + window + "' in '"
                            + candidate + "'");
                }
            }
        }
    }
}
