package dev.refreshguard.alert;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The verdict rule of a reuse alert: each fact alone and together, at and past the retry window. */
class VerdictTest {

    private static final int WINDOW = 10;

    private static Verdict of(Boolean ip, Boolean ua, Boolean key, long seconds) {
        return Verdict.of(new Evidence(ip, ua, key, seconds, true), WINDOW);
    }

    @Test
    void sameAddressAndUserAgentWithinTheWindowIsLikelyRetry() {
        assertThat(of(true, true, null, 0)).isEqualTo(Verdict.LIKELY_RETRY);
        assertThat(of(true, true, true, WINDOW)).isEqualTo(Verdict.LIKELY_RETRY);
    }

    @Test
    void pastTheWindowTheSameDeviceIsInconclusive() {
        assertThat(of(true, true, null, WINDOW + 1)).isEqualTo(Verdict.INCONCLUSIVE);
        assertThat(Verdict.of(new Evidence(true, true, null, 3, true), 0)).as("window 0: never likely-retry")
                .isEqualTo(Verdict.INCONCLUSIVE);
    }

    @Test
    void anotherAddressAndAnotherUserAgentIsLikelyTheftWhateverTheTime() {
        assertThat(of(false, false, null, 0)).isEqualTo(Verdict.LIKELY_THEFT);
        assertThat(of(false, false, null, 5000)).isEqualTo(Verdict.LIKELY_THEFT);
    }

    @Test
    void anotherDpopKeyIsLikelyTheftEvenFromTheSameDevice() {
        assertThat(of(true, true, false, 0)).isEqualTo(Verdict.LIKELY_THEFT);
        assertThat(of(null, null, false, -1)).isEqualTo(Verdict.LIKELY_THEFT);
    }

    @Test
    void oneDifferenceAloneOrUnknownFactsAreInconclusive() {
        assertThat(of(false, true, null, 0)).as("another address, same app: a phone that changed network")
                .isEqualTo(Verdict.INCONCLUSIVE);
        assertThat(of(true, false, null, 0)).as("same address, another app: a shared NAT").isEqualTo(Verdict.INCONCLUSIVE);
        assertThat(of(null, null, null, -1)).as("an older generation: nothing known").isEqualTo(Verdict.INCONCLUSIVE);
        assertThat(of(true, null, null, 0)).as("no User-Agent on either side").isEqualTo(Verdict.INCONCLUSIVE);
        assertThat(of(true, true, null, -1)).as("time unknown").isEqualTo(Verdict.INCONCLUSIVE);
    }

    @Test
    void anotherSessionIsNeverLikelyRetry() {
        assertThat(Verdict.of(new Evidence(true, true, null, 0, false), WINDOW)).isEqualTo(Verdict.INCONCLUSIVE);
    }

    @Test
    void keysAreComparedOnlyWhereADpopProofWasUsed() {
        assertThat(Evidence.sameKey(null, null)).isNull();
        assertThat(Evidence.sameKey("k1", "k1")).isTrue();
        assertThat(Evidence.sameKey("k1", null)).isFalse();
        assertThat(Evidence.sameKey(null, "k2")).isFalse();
        assertThat(Evidence.same("a", null)).isNull();
        assertThat(Evidence.same("a", "a")).isTrue();
    }

    @Test
    void wordsAreTheContractsWords() {
        assertThat(Verdict.LIKELY_RETRY.word()).isEqualTo("likely-retry");
        assertThat(Verdict.LIKELY_THEFT.word()).isEqualTo("likely-theft");
        assertThat(Verdict.INCONCLUSIVE.word()).isEqualTo("inconclusive");
    }
}
