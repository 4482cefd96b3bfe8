package dev.refreshguard.spi;

import java.util.List;
import java.util.Map;

import org.keycloak.Config;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.provider.ProviderConfigurationBuilder;

/**
 * How long a refresh, exchange or revocation may wait for a family row that another transaction holds locked — a
 * node that died mid-request, or whose host vanished, keeps its locks until the database ends its transaction,
 * which on Linux's default TCP keepalive can take two hours. Past the bound the request gets 503
 * {@code temporarily_unavailable} and rolls back. A server option, read once at startup:
 * {@code --spi-refresh-guard--refresh-guard--lock-timeout} or {@code KC_SPI_REFRESH_GUARD__REFRESH_GUARD__LOCK_TIMEOUT}.
 *
 * @param lockTimeoutSeconds the bound, in whole seconds (JDBC query timeouts count whole seconds)
 */
public record LedgerSettings(int lockTimeoutSeconds) {

    public static final String LOCK_TIMEOUT = "lock-timeout";
    static final int DEFAULT_LOCK_TIMEOUT = 5;
    private static final int MAX_LOCK_TIMEOUT = 300;

    static LedgerSettings from(Config.Scope config) {
        return new LedgerSettings(PurgeSettings.read(config, LOCK_TIMEOUT, DEFAULT_LOCK_TIMEOUT, 1, MAX_LOCK_TIMEOUT));
    }

    Map<String, String> info() {
        return Map.of(LOCK_TIMEOUT, Integer.toString(lockTimeoutSeconds));
    }

    static List<ProviderConfigProperty> metadata() {
        return ProviderConfigurationBuilder.create()
                .property().name(LOCK_TIMEOUT).type(ProviderConfigProperty.INTEGER_TYPE).defaultValue(DEFAULT_LOCK_TIMEOUT)
                .helpText("Seconds (1-" + MAX_LOCK_TIMEOUT + ") a refresh, token exchange or revocation waits for a refresh token"
                        + " family locked by another transaction (e.g. of a node that died) before it answers 503"
                        + " temporarily_unavailable.")
                .add()
                .build();
    }
}
