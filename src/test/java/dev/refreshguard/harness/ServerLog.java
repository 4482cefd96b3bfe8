package dev.refreshguard.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.function.Predicate;

/** The real server's log as written so far, line by line. */
public final class ServerLog {

    private final KeycloakServer server;

    public ServerLog(KeycloakServer server) {
        this.server = server;
    }

    public List<String> lines(Predicate<String> which) {
        try {
            String text = new String(Files.readAllBytes(server.logFile()), StandardCharsets.UTF_8);
            return text.lines().filter(which).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Lines at level ERROR that contain every one of {@code fragments}. */
    public List<String> errors(String... fragments) {
        return lines(line -> line.contains(" ERROR ") && List.of(fragments).stream().allMatch(line::contains));
    }
}
