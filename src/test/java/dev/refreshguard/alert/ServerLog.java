package dev.refreshguard.alert;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.Http;

/** The server's log as a security team's pipeline reads it: alert JSON lines and WARN lines. */
final class ServerLog {

    /** Keycloak's default console format: date time LEVEL [category] (thread) message. */
    private static final Pattern ALERT_LINE =
            Pattern.compile("^\\S+ \\S+ WARN\\s+\\[" + Pattern.quote(AlertChannels.LOG_CATEGORY) + "\\] \\([^)]*\\) (\\{.*\\})$");

    private final Path file;

    ServerLog(Path file) {
        this.file = file;
    }

    String text() {
        try {
            return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    List<String> lines() {
        return text().lines().toList();
    }

    /** Every alert JSON line of the category, parsed. */
    List<JsonNode> alerts() {
        List<JsonNode> alerts = new ArrayList<>();
        for (String line : lines()) {
            Matcher m = ALERT_LINE.matcher(line);
            if (m.matches()) {
                alerts.add(parse(m.group(1)));
            }
        }
        return alerts;
    }

    List<JsonNode> alertsOfFamily(String familyId) {
        return alerts().stream().filter(a -> familyId.equals(a.path("family_id").asText())).toList();
    }

    JsonNode awaitAlertOfFamily(String familyId) {
        return Await.value(Duration.ofSeconds(30), "an alert line for family " + familyId,
                () -> alertsOfFamily(familyId).stream().findFirst().orElse(null));
    }

    String awaitLine(Duration timeout, String what, Predicate<String> line) {
        return Await.value(timeout, what, () -> lines().stream().filter(line).findFirst().orElse(null));
    }

    static JsonNode parse(String json) {
        try {
            return Http.JSON.readTree(json);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + json, e);
        }
    }
}
