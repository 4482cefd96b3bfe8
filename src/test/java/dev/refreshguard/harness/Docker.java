package dev.refreshguard.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The Docker engine of the container leg, through the docker CLI. {@link #setUp()} makes one answer where it can:
 * as root it installs Debian's docker.io (with debootstrap and docker-compose, which the leg also needs) when
 * dockerd is missing, and starts dockerd by hand (no systemd here) when none answers; otherwise there is no engine
 * and the leg is skipped with {@link #SKIPPED}. Never pulls in a loop: see {@link #pullOnce}.
 */
public final class Docker {

    public static final String SKIPPED = "[refresh-guard] container leg SKIPPED: no Docker engine answers and this build "
            + "cannot start one (to run it, as root: apt-get install -y --no-install-recommends docker.io debootstrap "
            + "docker-compose; dockerd &)";
    private static final String PACKAGES = "docker.io debootstrap docker-compose";
    private static final Duration ANSWER = Duration.ofSeconds(60);

    private final Path work;
    private final List<String> compose;

    private Docker(Path work, List<String> compose) {
        this.work = work;
        this.compose = compose;
    }

    /** What a command printed (stdout and stderr together) and its exit code. */
    public record Result(int exit, String output) {
        public boolean ok() {
            return exit == 0;
        }

        public Result orFail(String what) {
            if (exit != 0) {
                throw new AssertionError(what + " failed (exit " + exit + "): " + tail(output));
            }
            return this;
        }
    }

    /** The engine, set up as far as this machine allows; empty (and one line on the console) where none can run. */
    public static Optional<Docker> setUp() {
        Path work = Path.of(System.getProperty("project.basedir", "."), "target", "container");
        boolean root = "root".equals(System.getProperty("user.name"));
        if (!answers()) {
            if (!root) {
                System.out.println(SKIPPED);
                return Optional.empty();
            }
            if (!Files.isExecutable(Path.of("/usr/sbin/dockerd")) && !Files.isExecutable(Path.of("/usr/bin/dockerd"))) {
                if (!Files.isExecutable(Path.of("/usr/bin/apt-get"))) {
                    System.out.println(SKIPPED);
                    return Optional.empty();
                }
                System.out.println("[refresh-guard] no Docker engine: installing Debian's " + PACKAGES
                        + " (apt-get, as root; log: target/container/apt-get.log)");
                aptGet(work, "docker.io", "debootstrap", "docker-compose");
            }
            startDaemon(work);
        } else if (root && !Files.isExecutable(Path.of("/usr/sbin/debootstrap")) && Files.isExecutable(Path.of("/usr/bin/apt-get"))) {
            // An engine answers (whichever package brought it: only what is missing is added), but stand-ins may be
            // needed: debootstrap makes their base.
            aptGet(work, "debootstrap");
        }
        List<String> compose = composeCommand();
        if (compose.isEmpty() && root && Files.isExecutable(Path.of("/usr/bin/apt-get"))) {
            aptGet(work, "docker-compose");
            compose = composeCommand();
        }
        return Optional.of(new Docker(work, compose));
    }

    /** `docker compose` (v2) where the CLI has it, else `docker-compose` (v1); empty if neither runs. */
    private static List<String> composeCommand() {
        if (exec(Duration.ofSeconds(30), null, Map.of(), "docker", "compose", "version").ok()) {
            return List.of("docker", "compose");
        }
        if (exec(Duration.ofSeconds(30), null, Map.of(), "docker-compose", "version").ok()) {
            return List.of("docker-compose");
        }
        return List.of();
    }

    private static boolean answers() {
        return exec(Duration.ofSeconds(20), null, Map.of(), "docker", "info", "--format", "{{.ServerVersion}}").ok();
    }

    private static void aptGet(Path work, String... packages) {
        Path log = work.resolve("apt-get.log");
        List<String> install = new ArrayList<>(List.of("apt-get", "install", "-y", "-qq", "--no-install-recommends"));
        install.addAll(List.of(packages));
        for (List<String> step : List.of(List.of("apt-get", "update", "-qq"), install)) {
            exec(Duration.ofMinutes(10), log, Map.of("DEBIAN_FRONTEND", "noninteractive"), step.toArray(String[]::new))
                    .orFail(String.join(" ", step) + " (log: " + log + ")");
        }
    }

    /** dockerd with its defaults, in the background; it keeps running after the build, like a service would. */
    private static void startDaemon(Path work) {
        Path log = work.resolve("dockerd.log");
        System.out.println("[refresh-guard] no Docker engine answers: starting dockerd (as root; log: " + log + ")");
        try {
            Files.createDirectories(work);
            new ProcessBuilder("setsid", "dockerd").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Instant deadline = Instant.now().plus(ANSWER);
        while (!answers()) {
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("dockerd started but did not answer within " + ANSWER.toSeconds() + " s (log: " + log + ")");
            }
            pause();
        }
    }

    private static void pause() {
        try {
            TimeUnit.MILLISECONDS.sleep(500);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Where the leg keeps its logs and build contexts: target/container. */
    public Path work() {
        return work;
    }

    public Result docker(Duration timeout, String... args) {
        return docker(timeout, Map.of(), args);
    }

    public Result docker(Duration timeout, Map<String, String> env, String... args) {
        List<String> command = new ArrayList<>(List.of("docker"));
        command.addAll(List.of(args));
        return exec(timeout, null, env, command.toArray(String[]::new));
    }

    /** docker compose (v2) or docker-compose (v1), whichever this machine has, with the given environment. */
    public Result compose(Duration timeout, Map<String, String> env, String... args) {
        if (compose.isEmpty()) {
            throw new AssertionError("neither `docker compose` nor `docker-compose` runs here (as root: apt-get install -y docker-compose)");
        }
        List<String> command = new ArrayList<>(compose);
        command.addAll(List.of(args));
        return exec(timeout, null, env, command.toArray(String[]::new));
    }

    public String composeName() {
        return String.join(" ", compose);
    }

    public boolean imagePresent(String tag) {
        return docker(Duration.ofSeconds(30), "image", "inspect", "--format", "{{.Id}}", tag).ok();
    }

    /** A label of a local image; "" when the image or the label is absent. */
    public String label(String tag, String label) {
        Result r = docker(Duration.ofSeconds(30), "image", "inspect", "--format", "{{ index .Config.Labels \"" + label + "\" }}", tag);
        String value = r.output().strip();
        return r.ok() && !"<no value>".equals(value) ? value : "";
    }

    /** One pull, bounded: where no registry answers the leg builds stand-ins instead of waiting. */
    public boolean pullOnce(String tag) {
        return docker(Duration.ofSeconds(90), "pull", "-q", tag).ok();
    }

    static Result exec(Duration timeout, Path log, Map<String, String> env, String... command) {
        try {
            Path out = Files.createTempFile("rg-docker-", ".out");
            try {
                ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
                pb.environment().putAll(env);
                Process process = pb.start();
                boolean done = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
                if (!done) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
                String output = Files.readString(out, StandardCharsets.UTF_8);
                if (log != null) {
                    Files.createDirectories(log.getParent());
                    Files.writeString(log, "$ " + String.join(" ", command) + "\n" + output, StandardCharsets.UTF_8,
                            java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
                }
                return new Result(done ? process.exitValue() : -1, done ? output : output + "\n(timed out after " + timeout + ")");
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            // The program is missing: the same as a failing command for every caller here.
            return new Result(127, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static String tail(String output) {
        return output.length() <= 2000 ? output : "..." + output.substring(output.length() - 2000);
    }
}
