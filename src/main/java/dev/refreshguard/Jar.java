package dev.refreshguard;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Properties;

/** The id every provider of this JAR registers, and the JAR's version as Keycloak's server info shows it. */
public final class Jar {

    public static final String PROVIDER_ID = "refresh-guard";
    public static final String VERSION = readVersion();

    private Jar() {
    }

    public static Map<String, String> info() {
        return Map.of("version", VERSION);
    }

    private static String readVersion() {
        try (InputStream in = Jar.class.getResourceAsStream("/dev/refreshguard/version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
