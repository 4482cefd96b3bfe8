package dev.refreshguard.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.refreshguard.exchange.SubjectFamily.Standing;
import dev.refreshguard.store.Family;
import dev.refreshguard.policy.ClientKind;
import dev.refreshguard.policy.Policy;

/** When a subject token's family may still have token-exchange descendants. */
class SubjectFamilyTest {

    private static final long START = 1_000_000;

    @Test
    void aLiveFamilyWithoutLimitsIsAliveForever() {
        assertThat(subject(family(Family.State.ACTIVE, START, false), Map.of(), START).standing(START + 10_000_000))
                .isEqualTo(Standing.ALIVE);
    }

    @Test
    void aRevokedFamilyIsRevokedWhateverItsLifetimes() {
        assertThat(subject(family(Family.State.REVOKED, START, false), Map.of(), START).standing(START + 1))
                .isEqualTo(Standing.REVOKED);
    }

    @Test
    void maxCountsFromTheFamilyStartNotFromTheSubjectToken() {
        Map<String, String> max = Map.of("refresh.guard.max.seconds", "60");
        SubjectFamily subject = subject(family(Family.State.ACTIVE, START + 50, false), max, START + 55);
        assertThat(subject.standing(START + 60)).isEqualTo(Standing.ALIVE);
        assertThat(subject.standing(START + 61)).isEqualTo(Standing.EXPIRED);
    }

    @Test
    void idleCountsFromTheLatestRotationOrTheSubjectTokenWhicheverIsLater() {
        Map<String, String> idle = Map.of("refresh.guard.idle.seconds", "30");
        // Rotated at START + 20; the access token was issued later, by a refresh that did not rotate.
        SubjectFamily laterToken = subject(family(Family.State.ACTIVE, START + 20, false), idle, START + 40);
        assertThat(laterToken.standing(START + 70)).isEqualTo(Standing.ALIVE);
        assertThat(laterToken.standing(START + 71)).isEqualTo(Standing.EXPIRED);
        SubjectFamily olderToken = subject(family(Family.State.ACTIVE, START + 20, false), idle, START + 5);
        assertThat(olderToken.standing(START + 50)).isEqualTo(Standing.ALIVE);
        assertThat(olderToken.standing(START + 51)).isEqualTo(Standing.EXPIRED);
    }

    @Test
    void offlineFamiliesLiveByTheOfflineLimits() {
        Map<String, String> limits = Map.of("refresh.guard.max.seconds", "10", "refresh.guard.offline.max.seconds", "100");
        assertThat(subject(family(Family.State.ACTIVE, START, true), limits, START).standing(START + 50))
                .isEqualTo(Standing.ALIVE);
        assertThat(subject(family(Family.State.ACTIVE, START, false), limits, START).standing(START + 50))
                .isEqualTo(Standing.EXPIRED);
    }

    @Test
    void bearerInAnySpellingAndDpopAreAccessTokensRefreshAndIdTokensAreNot() {
        assertThat(SubjectFamily.isAccessToken("Bearer")).isTrue();
        assertThat(SubjectFamily.isAccessToken("bearer")).isTrue();
        assertThat(SubjectFamily.isAccessToken("DPoP")).isTrue();
        assertThat(SubjectFamily.isAccessToken("Refresh")).isFalse();
        assertThat(SubjectFamily.isAccessToken("Offline")).isFalse();
        assertThat(SubjectFamily.isAccessToken("ID")).isFalse();
        assertThat(SubjectFamily.isAccessToken(null)).isFalse();
    }

    @Test
    void aFamilyTheLedgerDoesNotKnowIsUnknown() {
        SubjectFamily gone = new SubjectFamily(null, "f1", "u1", "s1", "spa",
                Policy.resolve(Map.of(), Map.of(), ClientKind.CONFIDENTIAL), START);
        assertThat(gone.standing(START)).isEqualTo(Standing.UNKNOWN);
    }

    private static SubjectFamily subject(Family family, Map<String, String> clientAttributes, long tokenIssuedAt) {
        return new SubjectFamily(family, "spa", Policy.resolve(clientAttributes, Map.of(), ClientKind.CONFIDENTIAL),
                tokenIssuedAt);
    }

    private static Family family(Family.State state, long rotatedAt, boolean offline) {
        return new Family("f1", "r1", "c1", "u1", "s1", offline, null, 3, START, rotatedAt, "127.0.0.1", state,
                state == Family.State.REVOKED ? rotatedAt : 0, 0, state == Family.State.REVOKED ? "reuse" : null);
    }
}
