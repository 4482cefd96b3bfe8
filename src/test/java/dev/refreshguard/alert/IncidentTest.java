package dev.refreshguard.alert;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** One incident per family and window: which reuse writes letters, which writes lines and events. */
class IncidentTest {

    @Test
    void theFirstReuseOpensAnIncidentAndSendsTheLetters() {
        Incident first = Incident.next(0, 0, 1000);
        assertThat(first).isEqualTo(new Incident(1000, 1));
        assertThat(first.opened()).isTrue();
        assertThat(first.reported()).isTrue();
    }

    @Test
    void laterReusesInTheWindowOnlyCountAndReportAtPowersOfTwo() {
        Incident incident = Incident.next(0, 0, 1000);
        int letters = 1;
        int reported = 1;
        for (int i = 2; i <= 2000; i++) {
            incident = Incident.next(incident.startedAt(), incident.count(), 1000 + i % 600);
            assertThat(incident.startedAt()).isEqualTo(1000);
            assertThat(incident.count()).isEqualTo(i);
            letters += incident.opened() ? 1 : 0;
            reported += incident.reported() ? 1 : 0;
        }
        assertThat(letters).isEqualTo(1);
        // 1, 2, 4, ..., 1024: 1 + floor(log2(2000))
        assertThat(reported).isEqualTo(11);
    }

    @Test
    void aReuseAfterTheWindowOpensANewIncident() {
        Incident later = Incident.next(1000, 57, 1000 + Incident.WINDOW_SECONDS);
        assertThat(later).isEqualTo(new Incident(1000 + Incident.WINDOW_SECONDS, 1));
        assertThat(later.opened()).isTrue();
        assertThat(Incident.next(1000, 57, 1000 + Incident.WINDOW_SECONDS - 1).count()).isEqualTo(58);
    }

    @Test
    void aClockThatWentBackOpensANewIncidentRatherThanNeverEnding() {
        assertThat(Incident.next(5000, 3, 4000)).isEqualTo(new Incident(4000, 1));
    }

    @Test
    void userTextIsCutAndLosesControlCharacters() {
        assertThat(UserText.cut(null)).isNull();
        assertThat(UserText.cut("app/1.0\r\nWARN forged line\u0000")).isEqualTo("app/1.0??WARN forged line?");
        assertThat(UserText.cut("x".repeat(10_000))).hasSize(UserText.MAX + 1).endsWith("\u2026");
        assertThat(UserText.cut("a\u202Eb")).as("no bidi override").isEqualTo("a?b");
    }
}
