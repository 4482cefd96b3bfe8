package dev.refreshguard.spi;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.keycloak.Config;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.provider.ProviderConfigurationBuilder;

/**
 * The purge task's server options, read once at startup:
 * {@code --spi-refresh-guard--refresh-guard--<option>} or {@code KC_SPI_REFRESH_GUARD__REFRESH_GUARD__<OPTION>}.
 *
 * @param intervalSeconds         seconds between two passes of the cluster; 0 switches the task off
 * @param retentionSeconds        how long an ended (session gone, past its maximum) family is kept before it is deleted
 * @param revokedRetentionSeconds how long a revoked family is kept for incident responders before it is deleted
 * @param batchSize               families per purge transaction: the most rows one short transaction locks
 * @param pausePercent            after each batch the pass waits this share of the batch's own time (100: as long again),
 *                                so that it takes at most about half of the database's attention; 0 runs batches back to back
 */
public record PurgeSettings(int intervalSeconds, int retentionSeconds, int revokedRetentionSeconds, int batchSize,
                            int pausePercent) {

    public static final String INTERVAL = "purge-interval";
    static final String RETENTION = "retention";
    static final String REVOKED_RETENTION = "revoked-retention";
    static final String BATCH_SIZE = "purge-batch-size";
    static final String PAUSE = "purge-pause";

    static final int DEFAULT_INTERVAL = 3600;
    static final int DEFAULT_RETENTION = 86_400;
    static final int DEFAULT_REVOKED_RETENTION = 3 * 86_400;
    static final int DEFAULT_BATCH_SIZE = 500;
    private static final int MAX_BATCH_SIZE = 10_000;
    static final int DEFAULT_PAUSE = 100;
    private static final int MAX_PAUSE = 1000;

    static PurgeSettings from(Config.Scope config) {
        return new PurgeSettings(
                read(config, INTERVAL, DEFAULT_INTERVAL, 0, Integer.MAX_VALUE),
                read(config, RETENTION, DEFAULT_RETENTION, 0, Integer.MAX_VALUE),
                read(config, REVOKED_RETENTION, DEFAULT_REVOKED_RETENTION, 0, Integer.MAX_VALUE),
                read(config, BATCH_SIZE, DEFAULT_BATCH_SIZE, 1, MAX_BATCH_SIZE),
                read(config, PAUSE, DEFAULT_PAUSE, 0, MAX_PAUSE));
    }

    public boolean enabled() {
        return intervalSeconds > 0;
    }

    /** For the server info (admin console: Provider info), next to the JAR version. */
    Map<String, String> info() {
        Map<String, String> info = new LinkedHashMap<>();
        info.put(INTERVAL, Integer.toString(intervalSeconds));
        info.put(RETENTION, Integer.toString(retentionSeconds));
        info.put(REVOKED_RETENTION, Integer.toString(revokedRetentionSeconds));
        info.put(BATCH_SIZE, Integer.toString(batchSize));
        info.put(PAUSE, Integer.toString(pausePercent));
        return info;
    }

    static List<ProviderConfigProperty> metadata() {
        return ProviderConfigurationBuilder.create()
                .property().name(INTERVAL).type(ProviderConfigProperty.INTEGER_TYPE).defaultValue(DEFAULT_INTERVAL)
                .helpText("Seconds between two passes of the family purge task, run by one node of the cluster; 0 switches it off.")
                .add()
                .property().name(RETENTION).type(ProviderConfigProperty.INTEGER_TYPE).defaultValue(DEFAULT_RETENTION)
                .helpText("Seconds an ended family (its session ended, or past its maximum) is kept before the purge deletes it.")
                .add()
                .property().name(REVOKED_RETENTION).type(ProviderConfigProperty.INTEGER_TYPE).defaultValue(DEFAULT_REVOKED_RETENTION)
                .helpText("Seconds a revoked family is kept for incident responders before the purge deletes it.")
                .add()
                .property().name(BATCH_SIZE).type(ProviderConfigProperty.INTEGER_TYPE).defaultValue(DEFAULT_BATCH_SIZE)
                .helpText("Families per purge transaction (1-" + MAX_BATCH_SIZE + "): the most rows a purge holds locked at once.")
                .add()
                .property().name(PAUSE).type(ProviderConfigProperty.INTEGER_TYPE).defaultValue(DEFAULT_PAUSE)
                .helpText("After each purge transaction, wait this percentage of the time it took (0-" + MAX_PAUSE
                        + "; 100 = as long again), so that refreshes keep the database's attention during a long pass.")
                .add()
                .build();
    }

    /** One integer option, validated: a value out of range stops the server's start with a message naming it. */
    static int read(Config.Scope config, String name, int fallback, int min, int max) {
        String raw = config.get(name);
        if (raw == null || raw.isBlank()) {
            return fallback;
        }
        try {
            int value = Integer.parseInt(raw.trim());
            if (value >= min && value <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("refresh-guard option " + name + " accepts an integer from " + min + " to " + max
                + " (seconds, except " + BATCH_SIZE + " and " + PAUSE + "); got '" + raw + "'");
    }
}
