package dev.refreshguard.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The images the container leg runs: the official ones where they are here or can be pulled (a developer's
 * machine), else stand-ins built from Debian packages that keep the official contract (src/test/docker/), tagged
 * where docker/ and testcontainers expect them. A stand-in carries the label {@link #LABEL} with a hash of what it
 * was built from, so a later run reuses it; an image without the label is an official one and is used as it is.
 */
public final class ContainerImages {

    public static final String KEYCLOAK = "quay.io/keycloak/keycloak:" + System.getProperty("keycloak.version", "26.7.3");
    /** The image docker/compose.yaml builds from docker/Dockerfile. */
    public static final String GUARD = "keycloak-refresh-guard:" + System.getProperty("keycloak.version", "26.7.3");
    public static final String LABEL = "dev.refreshguard.stand-in";
    private static final String BASE = "refresh-guard/debian:bookworm-minbase";

    private final Docker docker;
    private final Path project;
    private String postgresTag;
    private boolean keycloakReady;
    private boolean guardBuilt;

    public ContainerImages(Docker docker) {
        this.docker = docker;
        this.project = Path.of(System.getProperty("project.basedir", "."));
    }

    public Docker docker() {
        return docker;
    }

    /** quay.io/keycloak/keycloak at the leg's version: official, or the stand-in. */
    public synchronized String keycloak() {
        if (!keycloakReady) {
            Path zip = Path.of(System.getProperty("user.home"), ".m2", "repository", "org", "keycloak", "keycloak-quarkus-dist",
                    version(), "keycloak-quarkus-dist-" + version() + ".zip");
            Path dockerfile = project.resolve("src/test/docker/keycloak/Dockerfile");
            String hash = hash(read(dockerfile), zip.toString(), String.valueOf(size(zip)));
            ensure(KEYCLOAK, hash, "keycloak", context -> link(zip, context.resolve("keycloak-quarkus-dist.zip")),
                    "Keycloak " + version() + " from the distribution zip in the Maven repository, on Debian's openjdk-17-jre-headless");
            keycloakReady = true;
        }
        return KEYCLOAK;
    }

    /** The PostgreSQL image docker/compose.yaml names: official, or the stand-in (Debian's PostgreSQL 15) under that tag. */
    public synchronized String postgres() {
        if (postgresTag == null) {
            Matcher m = Pattern.compile("(?m)^\\s*image:\\s*(postgres:\\S+)").matcher(read(project.resolve("docker/compose.yaml")));
            String tag = m.find() ? m.group(1) : "postgres:17";
            Path dir = project.resolve("src/test/docker/postgres");
            String hash = hash(read(dir.resolve("Dockerfile")), read(dir.resolve("docker-entrypoint.sh")));
            ensure(tag, hash, "postgres", context -> {
            }, "Debian's PostgreSQL 15 under the tag " + tag + " that docker/compose.yaml names, with the official image's "
                    + "POSTGRES_PASSWORD, POSTGRES_DB, POSTGRES_USER");
            postgresTag = tag;
        }
        return postgresTag;
    }

    /** docker/Dockerfile, built unchanged from the repository root with the freshly packaged JAR; once per run. */
    public synchronized String guard() {
        if (!guardBuilt) {
            keycloak();
            java.time.Instant started = java.time.Instant.now();
            docker.docker(Duration.ofMinutes(15), "build", "-q", "-f", project.resolve("docker/Dockerfile").toString(),
                    "-t", GUARD, project.toString()).orFail("docker build -f docker/Dockerfile -t " + GUARD + " .");
            System.out.println("[refresh-guard] built " + GUARD + " from docker/Dockerfile in "
                    + Duration.between(started, java.time.Instant.now()).toSeconds() + " s");
            guardBuilt = true;
        }
        return GUARD;
    }

    private interface Context {
        void fill(Path dir) throws IOException;
    }

    private void ensure(String tag, String hash, String standIn, Context extra, String what) {
        if (docker.imagePresent(tag)) {
            String label = docker.label(tag, LABEL);
            if (label.isEmpty() || label.equals(hash)) {
                return; // official, or our stand-in built from the same sources
            }
        } else if (docker.pullOnce(tag)) {
            return;
        }
        java.time.Instant started = java.time.Instant.now();
        Path context = docker.work().resolve("stand-in-" + standIn);
        try {
            deleteTree(context);
            Files.createDirectories(context);
            try (Stream<Path> files = Files.list(project.resolve("src/test/docker").resolve(standIn))) {
                for (Path file : files.toList()) {
                    Files.copy(file, context.resolve(file.getFileName()), java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
            extra.fill(context);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        docker.docker(Duration.ofMinutes(20), "build", "-q", "--build-arg", "BASE=" + base(), "--label", LABEL + "=" + hash,
                "-t", tag, context.toString()).orFail("building the stand-in " + tag);
        try {
            deleteTree(context);
        } catch (IOException e) {
            // a leftover build context under target/ is harmless
        }
        System.out.println("[refresh-guard] " + tag + " cannot be pulled here: built a stand-in (" + what + ") in "
                + Duration.between(started, java.time.Instant.now()).toSeconds() + " s");
    }

    /** A Debian bookworm base from debootstrap, from the mirror apt already uses on this machine. */
    private String base() {
        if (docker.imagePresent(BASE)) {
            return BASE;
        }
        String mirror = aptMirror();
        Path root = docker.work().resolve("debootstrap");
        Path log = docker.work().resolve("debootstrap.log");
        Docker.exec(Duration.ofMinutes(2), null, Map.of(), "rm", "-rf", root.toString());
        Docker.exec(Duration.ofMinutes(15), log, Map.of(), "debootstrap", "--variant=minbase", "bookworm", root.toString(), mirror)
                .orFail("debootstrap --variant=minbase bookworm from " + mirror + " (log: " + log + ")");
        Docker.exec(Duration.ofMinutes(5), log, Map.of(), "sh", "-c", "tar -C '" + root + "' -c . | docker import - " + BASE)
                .orFail("docker import of the debootstrap tree");
        Docker.exec(Duration.ofMinutes(2), null, Map.of(), "rm", "-rf", root.toString());
        return BASE;
    }

    /** The first Debian mirror of the bookworm suite in /etc/apt/sources.list or sources.list.d/*.sources. */
    static String aptMirror() {
        StringBuilder config = new StringBuilder();
        Path etc = Path.of("/etc/apt");
        try {
            if (Files.isRegularFile(etc.resolve("sources.list"))) {
                config.append(Files.readString(etc.resolve("sources.list"))).append("\n\n");
            }
            if (Files.isDirectory(etc.resolve("sources.list.d"))) {
                try (Stream<Path> files = Files.list(etc.resolve("sources.list.d"))) {
                    for (Path file : files.sorted().toList()) {
                        String name = file.getFileName().toString();
                        if (name.endsWith(".sources") || name.endsWith(".list")) {
                            config.append(Files.readString(file)).append("\n\n");
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String text = config.toString();
        Matcher oneLine = Pattern.compile("(?m)^deb\\s+(?:\\[[^]]*]\\s+)?(\\S+)\\s+bookworm\\s").matcher(text);
        if (oneLine.find()) {
            return oneLine.group(1);
        }
        for (String stanza : text.split("\\n\\s*\\n")) {
            Matcher uri = Pattern.compile("(?m)^URIs:\\s*(\\S+)").matcher(stanza);
            if (Pattern.compile("(?m)^Suites:.*\\bbookworm(\\s|$)").matcher(stanza).find()
                    && Pattern.compile("(?m)^Types:.*\\bdeb\\b").matcher(stanza).find() && uri.find()) {
                return uri.group(1);
            }
        }
        throw new AssertionError("no Debian bookworm mirror in /etc/apt/sources.list or /etc/apt/sources.list.d/: the "
                + "container leg builds its stand-in images from the mirror apt uses");
    }

    private static String version() {
        return System.getProperty("keycloak.version", "26.7.3");
    }

    private static void link(Path from, Path to) throws IOException {
        if (!Files.isRegularFile(from)) {
            throw new AssertionError(from + " is missing: the Keycloak stand-in is built from the distribution zip the "
                    + "build downloads (org.keycloak:keycloak-quarkus-dist:" + version() + ":zip)");
        }
        try {
            Files.createLink(to, from);
        } catch (IOException | UnsupportedOperationException e) {
            Files.copy(from, to);
        }
    }

    private static long size(Path file) {
        try {
            return Files.isRegularFile(file) ? Files.size(file) : -1;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String hash(String... parts) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (String part : List.of(parts)) {
                digest.update(part.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                digest.update((byte) 0);
            }
            return HexFormat.of().formatHex(digest.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
