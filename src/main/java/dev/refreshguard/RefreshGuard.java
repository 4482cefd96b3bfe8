package dev.refreshguard;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Properties;

/** The id every provider of this JAR registers, and the JAR's version as Keycloak's server info shows it. */
public final class RefreshGuard {

    public static final String PROVIDER_ID = "refresh-guard";
    public static final String VERSION = readVersion();

    private RefreshGuard() {
    }

    public static Map<String, String> info() {
        return Map.of("version", VERSION);
    }

    private static String readVersion() {
        try (InputStream in = RefreshGuard.class.getResourceAsStream("/dev/refreshguard/version.properties")) {
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
