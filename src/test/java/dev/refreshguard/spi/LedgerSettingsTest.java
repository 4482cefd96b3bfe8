package dev.refreshguard.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.keycloak.Config;

/** The lock-timeout option: default, accepted range, and a start that stops on a bad value, naming the option. */
class LedgerSettingsTest {

    @Test
    void defaultsToFiveSecondsAndShowsInTheServerInfo() {
        LedgerSettings settings = LedgerSettings.from(scope(Map.of()));
        assertThat(settings.lockTimeoutSeconds()).isEqualTo(5);
        assertThat(settings.info()).containsEntry("lock-timeout", "5");
        assertThat(LedgerSettings.metadata()).singleElement().satisfies(p -> assertThat(p.getName()).isEqualTo("lock-timeout"));
    }

    @Test
    void acceptsOneToThreeHundredSeconds() {
        assertThat(LedgerSettings.from(scope(Map.of("lock-timeout", "1"))).lockTimeoutSeconds()).isEqualTo(1);
        assertThat(LedgerSettings.from(scope(Map.of("lock-timeout", " 300 "))).lockTimeoutSeconds()).isEqualTo(300);
        for (String bad : new String[] {"0", "-1", "301", "5s", "abc"}) {
            assertThatThrownBy(() -> LedgerSettings.from(scope(Map.of("lock-timeout", bad))))
                    .as("lock-timeout=%s", bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("lock-timeout").hasMessageContaining("from 1 to 300").hasMessageContaining(bad);
        }
    }

    private static Config.Scope scope(Map<String, String> values) {
        return new Config.AbstractScope() {
            @Override
            public String get(String key) {
                return values.get(key);
            }

            @Override
            public Config.Scope scope(String... scope) {
                return this;
            }

            @Override
            public Set<String> getPropertyNames() {
                return values.keySet();
            }

            @Override
            public Config.Scope root() {
                return this;
            }
        };
    }
}
