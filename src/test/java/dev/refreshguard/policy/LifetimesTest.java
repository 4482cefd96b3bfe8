package dev.refreshguard.policy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A refresh token's expiry: the earliest of Keycloak's limit, last refresh + idle, family start + max. */
class LifetimesTest {

    private static final long START = 1_700_000_000L;

    @Test
    void theEarliestLimitWins() {
        // Keycloak's limit earliest
        assertThat(Lifetimes.expiry(START + 10, START, START, 60, 600)).isEqualTo(START + 10);
        // idle earliest
        assertThat(Lifetimes.expiry(START + 1800, START, START, 60, 600)).isEqualTo(START + 60);
        // max earliest
        assertThat(Lifetimes.expiry(START + 1800, START + 590, START, 60, 600)).isEqualTo(START + 600);
    }

    @Test
    void zeroMeansNoLimitOfItsOwn() {
        assertThat(Lifetimes.expiry(START + 1800, START, START, 0, 0)).isEqualTo(START + 1800);
        assertThat(Lifetimes.expiry(START + 1800, START, START, 0, 600)).isEqualTo(START + 600);
        assertThat(Lifetimes.expiry(START + 1800, START, START, 60, 0)).isEqualTo(START + 60);
    }

    @Test
    void withoutAKeycloakLimitOnlyIdleAndMaxCount() {
        assertThat(Lifetimes.expiry(0, START, START, 0, 0)).isZero();
        assertThat(Lifetimes.expiry(-1, START, START, 0, 0)).isZero();
        assertThat(Lifetimes.expiry(0, START, START, 30, 0)).isEqualTo(START + 30);
        assertThat(Lifetimes.expiry(0, START + 100, START, 0, 500)).isEqualTo(START + 500);
    }

    @Test
    void rotationNeverExtendsTheFamilysMax() {
        int idle = 10;
        int max = 25;
        long previous = 0;
        for (long now = START; now <= START + max; now += 3) {
            long exp = Lifetimes.expiry(START + 3600, now, START, idle, max);
            assertThat(exp).isLessThanOrEqualTo(START + max).isGreaterThanOrEqualTo(previous);
            previous = exp;
        }
        assertThat(previous).isEqualTo(START + max);
    }

    @Test
    void expiredJustAfterIdleOrMaxNotAtTheSecondItself() {
        // idle: last refresh + idle
        assertThat(Lifetimes.expired(START + 100, START, START + 90, 10, 0)).isFalse();
        assertThat(Lifetimes.expired(START + 101, START, START + 90, 10, 0)).isTrue();
        // max: family start + max, however recent the last refresh
        assertThat(Lifetimes.expired(START + 50, START, START + 49, 10, 50)).isFalse();
        assertThat(Lifetimes.expired(START + 51, START, START + 50, 10, 50)).isTrue();
        // no limits: never
        assertThat(Lifetimes.expired(START + 1_000_000, START, START, 0, 0)).isFalse();
    }

    @Test
    void expiryAndExpiredAgree() {
        for (int idle : new int[] {0, 5, 30}) {
            for (int max : new int[] {0, 20, 60}) {
                for (long lastRefresh = START; lastRefresh < START + 40; lastRefresh += 7) {
                    long exp = Lifetimes.expiry(0, lastRefresh, START, idle, max);
                    if (exp == 0) {
                        assertThat(Lifetimes.expired(lastRefresh + 1_000_000, START, lastRefresh, idle, max)).isFalse();
                        continue;
                    }
                    assertThat(Lifetimes.expired(exp, START, lastRefresh, idle, max)).as("at exp %d/%d", idle, max).isFalse();
                    assertThat(Lifetimes.expired(exp + 1, START, lastRefresh, idle, max)).as("after exp %d/%d", idle, max).isTrue();
                }
            }
        }
    }
}
