package dev.refreshguard.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The reliability figures of the last run, one row per test class, in target/reliability.json (all details) and
 * target/reliability.md (the table docs/reliability.md shows). Each class replaces its own row only, so a run of one
 * class refreshes its row and keeps the others'.
 */
public final class Figures {

    private static final List<String> ORDER = List.of("hostile-input", "authorisation", "restart", "cluster", "races", "logs");

    private Figures() {
    }

    /**
     * One row of the table.
     *
     * @param cases        requests or scenarios tried
     * @param stateChanged "no" when the test proved nothing changed, "n/a" when state was meant to change
     */
    public record Row(String what, int cases, int racers, int nodes, int restarts, int fiveXx, String stateChanged,
                      Map<String, Object> details) {
    }

    public static synchronized void record(String key, Row row) {
        Path json = target().resolve("reliability.json");
        try {
            Files.createDirectories(json.getParent());
            ObjectNode all = Files.exists(json) ? (ObjectNode) Http.JSON.readTree(json.toFile()) : Http.JSON.createObjectNode();
            ObjectNode rows = all.with("rows");
            ObjectNode node = Http.JSON.valueToTree(row);
            node.put("recorded", Instant.now().toString());
            rows.set(key, node);
            all.put("updated", Instant.now().toString());
            all.put("keycloak", System.getProperty("keycloak.version", "26.7.3"));
            Http.JSON.writerWithDefaultPrettyPrinter().writeValue(json.toFile(), all);
            Files.writeString(target().resolve("reliability.md"), table(rows));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String table(ObjectNode rows) {
        StringBuilder md = new StringBuilder();
        md.append("| What | Cases tried | Racers | Nodes | Restarts | 5xx seen | State changed |\n");
        md.append("|---|---:|---:|---:|---:|---:|---|\n");
        for (String key : ORDER) {
            if (rows.has(key)) {
                md.append(line(rows.get(key)));
            }
        }
        for (Iterator<String> keys = rows.fieldNames(); keys.hasNext(); ) {
            String key = keys.next();
            if (!ORDER.contains(key)) {
                md.append(line(rows.get(key)));
            }
        }
        return md.toString();
    }

    private static String line(JsonNode row) {
        return "| " + row.path("what").asText() + " | " + row.path("cases").asInt() + " | " + dash(row.path("racers").asInt())
                + " | " + dash(row.path("nodes").asInt()) + " | " + dash(row.path("restarts").asInt()) + " | "
                + row.path("fiveXx").asInt() + " | " + row.path("stateChanged").asText() + " |\n";
    }

    private static String dash(int value) {
        return value == 0 ? "–" : Integer.toString(value);
    }

    private static Path target() {
        return Path.of(System.getProperty("project.basedir", ".")).resolve("target");
    }
}
