package dev.refreshguard.harness;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** What every Keycloak child process of the tests needs: waiting until it is ready, and stopping it. */
final class KeycloakProcess {

    private KeycloakProcess() {
    }

    /** Until the management interface says ready; fails at once with the log's tail if the process dies. */
    static void awaitReady(Process process, String managementUrl, Duration timeout, String what, Supplier<String> tail) {
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest ready = HttpRequest.newBuilder(URI.create(managementUrl + "/health/ready")).timeout(Duration.ofSeconds(5)).build();
        try {
            Await.until(timeout, what, () -> {
                if (!process.isAlive()) {
                    throw new AssertionError("Keycloak exited with " + process.exitValue() + "; log tail:\n" + tail.get());
                }
                try {
                    return http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
                } catch (IOException e) {
                    return false;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            });
        } catch (AssertionError e) {
            process.destroyForcibly();
            throw e;
        }
    }

    /** Waits for a process already asked to stop; kills it if it takes longer than {@code grace}. */
    static void awaitStopped(Process process, Duration grace) {
        try {
            if (!process.waitFor(grace.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
