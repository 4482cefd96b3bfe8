package dev.refreshguard.alert;

import java.util.Map;
import java.util.OptionalDouble;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.refreshguard.harness.Http;
import dev.refreshguard.harness.KeycloakServer;

/** The management interface's /metrics as Prometheus scrapes it. */
final class Prometheus {

    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)\\{(.*)\\}\\s+(\\S+)$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    private final KeycloakServer server;
    private final Http http = new Http();

    Prometheus(KeycloakServer server) {
        this.server = server;
    }

    /** One scrape: the value of every sample with labels, keyed by name and its sorted labels. */
    Map<String, Double> scrape() {
        Http.Reply reply = http.get(server.managementUrl() + "/metrics", null);
        if (reply.status() != 200) {
            throw new AssertionError("GET /metrics -> " + reply);
        }
        Map<String, Double> samples = new TreeMap<>();
        for (String line : reply.body().split("\n")) {
            Matcher m = SAMPLE.matcher(line.trim());
            if (line.startsWith("#") || !m.matches()) {
                continue;
            }
            Map<String, String> labels = new TreeMap<>();
            Matcher l = LABEL.matcher(m.group(2));
            while (l.find()) {
                labels.put(l.group(1), l.group(2));
            }
            samples.put(key(m.group(1), labels), Double.parseDouble(m.group(3)));
        }
        return samples;
    }

    static String key(String name, Map<String, String> labels) {
        return name + new TreeMap<>(labels);
    }

    /** The sample of this series, or empty when the scrape has no such series (never read as 0). */
    static OptionalDouble sample(Map<String, Double> scrape, String name, Map<String, String> labels) {
        Double value = scrape.get(key(name, labels));
        return value == null ? OptionalDouble.empty() : OptionalDouble.of(value);
    }

    /** The value of a series the caller expects to exist: an absent series fails, naming the series of that name there are. */
    static double value(Map<String, Double> scrape, String name, Map<String, String> labels) {
        OptionalDouble sample = sample(scrape, name, labels);
        if (sample.isEmpty()) {
            throw new AssertionError("no series " + key(name, labels) + " on /metrics; series of " + name + ": "
                    + scrape.keySet().stream().filter(k -> k.startsWith(name + "{")).toList());
        }
        return sample.getAsDouble();
    }
}
