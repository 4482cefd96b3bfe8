package dev.refreshguard.refresh;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.refreshguard.family.FamilyClaims;
import dev.refreshguard.store.Family;
import dev.refreshguard.store.RotationOutcome;
import dev.refreshguard.policy.Protection;
import dev.refreshguard.policy.ReuseAction;

/** The decision table of a refresh: every ledger outcome, in a protected realm and in one switched off. */
class AnswerTest {

    private static final Family FAMILY = new Family("f1", "realm", "client", "user", "session", false, null, 3, 100, 200,
            "10.0.0.1", Family.State.ACTIVE, 0, 0, null);
    private static final Family REVOKED = new Family("f1", "realm", "client", "user", "session", false, null, 3, 100, 200,
            "10.0.0.1", Family.State.REVOKED, 300, 0, "reuse");
    private static final RotationOutcome.Reused REUSED = new RotationOutcome.Reused(FAMILY, 2, 5,
            dev.refreshguard.store.Presentation.of("10.0.0.1", "ua", null), dev.refreshguard.store.IncidentState.NONE);
    private static final RotationOutcome[] REFUSED = {new RotationOutcome.Revoked(REVOKED), new RotationOutcome.Unknown("f9"),
            new RotationOutcome.Stale()};

    @Test
    void rotatedIssuesTheSuccessor() {
        assertThat(Answer.of(new RotationOutcome.Rotated(), Protection.ON, ReuseAction.REVOKE_FAMILY)).isEqualTo(Answer.ISSUE);
    }

    /** Rotation off: the successor is served and recorded as the family's newest issued token. */
    @Test
    void aTokenKeptWithoutRotationIsServed() {
        assertThat(Answer.of(new RotationOutcome.Kept(4), Protection.ON, ReuseAction.REVOKE_FAMILY)).isEqualTo(Answer.ISSUE);
    }

    /** No successor built (use.refresh.tokens=false, a dropping executor): the newest token is served as it is. */
    @Test
    void theNewestTokenWithoutSuccessorIsServed() {
        assertThat(Answer.of(new RotationOutcome.Current(), Protection.ON, ReuseAction.REVOKE_FAMILY)).isEqualTo(Answer.ISSUE);
    }

    @Test
    void anAdoptionWonIsARotationFromGenerationZero() {
        FamilyClaims adopted = FamilyClaims.adopted("realm", "token-id", 100);
        assertThat(adopted.generation()).isZero();
        assertThat(adopted.familyId()).startsWith("a-").hasSize(36).matches("[0-9A-Za-z_-]{36}");
        assertThat(FamilyClaims.adopted("realm", "token-id", 999).familyId()).as("the id depends only on realm and token")
                .isEqualTo(adopted.familyId());
        assertThat(FamilyClaims.adopted("other", "token-id", 100).familyId()).isNotEqualTo(adopted.familyId());
        assertThat(adopted.successor(true)).isEqualTo(new FamilyClaims(adopted.familyId(), 1, 100));
    }

    @Test
    void graceReplayHandsOutTheStoredSuccessor() {
        assertThat(Answer.of(new RotationOutcome.GraceReplay("successor", 42), Protection.ON, ReuseAction.REVOKE_FAMILY))
                .isEqualTo(Answer.REPLAY);
    }

    /** Reuse per action, each named: three revoke and refuse, alert-only serves unrotated and alerts. */
    @ParameterizedTest
    @EnumSource(ReuseAction.class)
    void reuseIsAnsweredByTheClientsAction(ReuseAction action) {
        assertThat(Answer.of(REUSED, Protection.ON, action)).isEqualTo(action == ReuseAction.ALERT_ONLY
                ? Answer.ALERT_AND_SERVE_UNROTATED : Answer.REVOKE_AND_REFUSE);
    }

    /** Every outcome other than reuse is answered the same whatever the action. */
    @ParameterizedTest
    @EnumSource(ReuseAction.class)
    void nonReuseOutcomesDoNotDependOnTheAction(ReuseAction action) {
        assertThat(Answer.of(new RotationOutcome.Rotated(), Protection.ON, action)).isEqualTo(Answer.ISSUE);
        assertThat(Answer.of(new RotationOutcome.GraceReplay("s", 7), Protection.ON, action)).isEqualTo(Answer.REPLAY);
        for (RotationOutcome outcome : REFUSED) {
            assertThat(Answer.of(outcome, Protection.ON, action)).as("%s", outcome).isEqualTo(Answer.REFUSE);
        }
    }

    /** A realm never protected (stock) or switched off (bookkeeping): the same stock answers, no alert, no refusal. */
    @ParameterizedTest
    @EnumSource(value = Protection.class, names = "ON", mode = EnumSource.Mode.EXCLUDE)
    void realmOffOrNeverProtectedRefusesNothing(Protection protection) {
        for (ReuseAction action : ReuseAction.values()) {
            assertThat(Answer.of(REUSED, protection, action)).isEqualTo(Answer.SERVE_UNROTATED);
            for (RotationOutcome outcome : REFUSED) {
                assertThat(Answer.of(outcome, protection, action)).as("%s %s %s", protection, action, outcome)
                        .isEqualTo(Answer.SERVE_UNROTATED);
            }
            assertThat(Answer.of(new RotationOutcome.Rotated(), protection, action)).isEqualTo(Answer.ISSUE);
            assertThat(Answer.of(new RotationOutcome.GraceReplay("s", 7), protection, action)).isEqualTo(Answer.REPLAY);
        }
    }
}
