package dev.refreshguard.bench;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import dev.refreshguard.bench.onewrite.OneWriteListenerFactory;
import dev.refreshguard.harness.Database;

/**
 * The reference realm's provider ({@link OneWriteListenerFactory}) as a JAR of its own, built from the compiled test
 * classes for a benchmark server's {@code providers/}, and the table it writes. Test code only: the product JAR
 * never contains it.
 */
final class OneWriteJar {

    static final String TABLE = "RG_BENCH_WRITE";

    private OneWriteJar() {
    }

    /** Writes the JAR (the classes of the provider's package and its service file) into {@code dir}. */
    static Path build(Path dir) {
        try {
            Path classes = Path.of(OneWriteListenerFactory.class.getResource(
                    OneWriteListenerFactory.class.getSimpleName() + ".class").toURI()).getParent();
            String prefix = OneWriteListenerFactory.class.getPackageName().replace('.', '/') + "/";
            Files.createDirectories(dir);
            Path jar = dir.resolve("bench-one-write.jar");
            try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file);
                 Stream<Path> listing = Files.list(classes)) {
                for (Path clazz : listing.filter(p -> p.toString().endsWith(".class")).sorted().toList()) {
                    out.putNextEntry(new JarEntry(prefix + clazz.getFileName()));
                    out.write(Files.readAllBytes(clazz));
                    out.closeEntry();
                }
                out.putNextEntry(new JarEntry("META-INF/services/org.keycloak.events.EventListenerProviderFactory"));
                out.write((OneWriteListenerFactory.class.getName() + "\n").getBytes(StandardCharsets.UTF_8));
                out.closeEntry();
            }
            return jar;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The table the reference realm writes: {@code RG_FAMILY}'s columns, keys and indexes (PostgreSQL's
     * {@code LIKE ... INCLUDING ALL}), so that its row and its write are the same size as a family's.
     */
    static void createTable(String jdbcUrl) {
        String sql = Database.isMariaDb(jdbcUrl) ? "CREATE TABLE IF NOT EXISTS " + TABLE + " LIKE RG_FAMILY"
                : "CREATE TABLE IF NOT EXISTS " + TABLE + " (LIKE RG_FAMILY INCLUDING ALL)";
        try (Connection c = Database.connect(jdbcUrl); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("creating " + TABLE + ": " + e.getMessage(), e);
        }
    }

    /** Writes the table holds: one per refresh (the generations) and one per login (the rows). */
    static long[] writes(String jdbcUrl) {
        try (Connection c = Database.connect(jdbcUrl); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COALESCE(SUM(GENERATION), 0), COUNT(*) FROM " + TABLE)) {
            rs.next();
            return new long[] {rs.getLong(1), rs.getLong(2)};
        } catch (SQLException e) {
            throw new IllegalStateException("reading " + TABLE + ": " + e.getMessage(), e);
        }
    }
}
