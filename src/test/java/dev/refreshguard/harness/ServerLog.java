package dev.refreshguard.harness;

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

/**
 * The one server-log reader: a real server's log as written so far, as an admin greps it (ERROR and WARN lines)
 * and as a security team's pipeline reads it (the alert JSON lines).
 */
public final class ServerLog {

    /** The log category of the alert lines, as users configure it (not the code's constant: the test pins the name). */
    public static final String ALERT_CATEGORY = "dev.refreshguard.alert";
    /** Keycloak's default console format: date time LEVEL [category] (thread) message. */
    private static final Pattern ALERT_LINE =
            Pattern.compile("^\\S+ \\S+ WARN\\s+\\[" + Pattern.quote(ALERT_CATEGORY) + "\\] \\([^)]*\\) (\\{.*\\})$");

    /** A log line starts with its date; the lines of a stack trace do not. */
    private static final Pattern LOG_LINE_START = Pattern.compile("^\\d{4}-\\d{2}-\\d{2} ");

    private final Path file;

    public ServerLog(Path file) {
        this.file = file;
    }

    public ServerLog(KeycloakServer server) {
        this(server.logFile());
    }

    public String text() {
        try {
            return Files.exists(file) ? new String(Files.readAllBytes(file), StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public List<String> lines() {
        return text().lines().toList();
    }

    public List<String> lines(Predicate<String> which) {
        return text().lines().filter(which).toList();
    }

    /** Lines at level ERROR that contain every one of {@code fragments}. */
    public List<String> errors(String... fragments) {
        return lines(line -> line.contains(" ERROR ") && List.of(fragments).stream().allMatch(line::contains));
    }

    /**
     * Each 500 Keycloak logged ("Uncaught server error"), with the deepest cause of its stack trace, so that a test
     * that saw a 5xx can say why without anyone opening the log.
     */
    public List<String> uncaughtErrors() {
        List<String> errors = new ArrayList<>();
        String error = null;
        String cause = null;
        for (String line : lines()) {
            boolean logLine = LOG_LINE_START.matcher(line).lookingAt();
            if (logLine && error != null) {
                errors.add(cause == null ? error : error + " <- " + cause);
                error = null;
                cause = null;
            }
            if (logLine && line.contains("Uncaught server error")) {
                error = line;
            } else if (error != null && line.startsWith("Caused by: ")) {
                cause = line;
            }
        }
        if (error != null) {
            errors.add(cause == null ? error : error + " <- " + cause);
        }
        return errors;
    }

    /**
     * The log's entries from line {@code from} on: a line with a date and the lines after it that do not start with
     * one (its stack trace).
     */
    public List<List<String>> entries(int from) {
        List<String> lines = lines();
        List<List<String>> entries = new ArrayList<>();
        for (String line : lines.subList(Math.min(from, lines.size()), lines.size())) {
            if (LOG_LINE_START.matcher(line).lookingAt() || entries.isEmpty()) {
                entries.add(new ArrayList<>());
            }
            entries.get(entries.size() - 1).add(line);
        }
        return entries;
    }

    /**
     * What refresh-guard must not log on an expected fault (a database away, a lock held), from line {@code from} on,
     * each by its first line: an entry of its own categories with a stack trace, or a 500 whose stack trace passes
     * through its store. (Narayana and Agroal log warnings with stack traces when a pooled connection dies: theirs.)
     */
    public List<String> stackTracesOfOurs(int from) {
        return entries(from).stream()
                .filter(e -> e.size() > 1 && (e.get(0).contains("[dev.refreshguard") && e.stream().skip(1).anyMatch(l -> l.startsWith("\tat "))
                        || e.get(0).contains("Uncaught server error") && e.stream().anyMatch(l -> l.startsWith("\tat dev.refreshguard.store."))))
                .map(e -> e.get(0))
                .toList();
    }

    /** {@link #uncaughtErrors()} of every log, in order. */
    public static List<String> uncaughtErrors(java.util.Collection<Path> logs) {
        return logs.stream().flatMap(log -> new ServerLog(log).uncaughtErrors().stream()).toList();
    }

    /** The first line that matches, waited for. */
    public String awaitLine(Duration timeout, String what, Predicate<String> line) {
        return Await.value(timeout, what, () -> lines().stream().filter(line).findFirst().orElse(null));
    }

    /** Every alert JSON line of the alert category, parsed. */
    public List<JsonNode> alerts() {
        return alerts(ALERT_LINE);
    }

    /** Every JSON line of the alert category at this level (e.g. {@code INFO}), parsed. */
    public List<JsonNode> alerts(String level) {
        return alerts(Pattern.compile("^\\S+ \\S+ " + Pattern.quote(level) + "\\s+\\[" + Pattern.quote(ALERT_CATEGORY)
                + "\\] \\([^)]*\\) (\\{.*\\})$"));
    }

    private List<JsonNode> alerts(Pattern pattern) {
        List<JsonNode> alerts = new ArrayList<>();
        for (String line : lines()) {
            Matcher m = pattern.matcher(line);
            if (m.matches()) {
                alerts.add(parse(m.group(1)));
            }
        }
        return alerts;
    }

    public List<JsonNode> alertsOfFamily(String familyId) {
        return alerts().stream().filter(a -> familyId.equals(a.path("family_id").asText())).toList();
    }

    public JsonNode awaitAlertOfFamily(String familyId) {
        return Await.value(Duration.ofSeconds(30), "an alert line for family " + familyId,
                () -> alertsOfFamily(familyId).stream().findFirst().orElse(null));
    }

    public static JsonNode parse(String json) {
        try {
            return Http.JSON.readTree(json);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + json, e);
        }
    }
}
