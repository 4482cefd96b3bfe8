package dev.refreshguard.refresh;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.refreshguard.family.Family;
import dev.refreshguard.family.FamilyClaims;
import dev.refreshguard.family.RotationOutcome;
import dev.refreshguard.policy.Protection;
import dev.refreshguard.policy.ReuseAction;

/** The decision table of a refresh: every ledger outcome, in a protected realm and in one switched off. */
class AnswerTest {

    private static final Family FAMILY = new Family("f1", "realm", "client", "user", "session", false, null, 3, 100, 200,
            "10.0.0.1", Family.State.ACTIVE, 0, null);
    private static final Family REVOKED = new Family("f1", "realm", "client", "user", "session", false, null, 3, 100, 200,
            "10.0.0.1", Family.State.REVOKED, 300, "reuse");
    private static final RotationOutcome.Reused REUSED = new RotationOutcome.Reused(FAMILY, 2, 5, "10.0.0.1");

    @Test
    void rotatedIssuesTheSuccessor() {
        assertThat(Answer.of(new RotationOutcome.Rotated(), Protection.ON, ReuseAction.REVOKE_FAMILY)).isEqualTo(new Answer.Issue());
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
        assertThat(Answer.of(new RotationOutcome.Rotated(), Protection.ON, ReuseAction.REVOKE_FAMILY)).isInstanceOf(Answer.Issue.class);
    }

    @Test
    void graceReplayHandsOutTheStoredSuccessor() {
        assertThat(Answer.of(new RotationOutcome.GraceReplay("successor", 42), Protection.ON, ReuseAction.REVOKE_FAMILY))
                .isEqualTo(new Answer.Replay("successor", 42));
    }

    @ParameterizedTest
    @EnumSource(value = ReuseAction.class, names = "ALERT_ONLY", mode = EnumSource.Mode.EXCLUDE)
    void reuseIsRefusedWithTheClientsAction(ReuseAction action) {
        assertThat(Answer.of(REUSED, Protection.ON, action)).isEqualTo(new Answer.RefuseReuse(REUSED, action));
    }

    @Test
    void alertOnlyServesUnrotatedWithAnAlert() {
        assertThat(Answer.of(REUSED, Protection.ON, ReuseAction.ALERT_ONLY)).isEqualTo(new Answer.ServeUnrotated(REUSED));
    }

    @Test
    void revokedUnknownAndStaleAreRefused() {
        assertThat(Answer.of(new RotationOutcome.Revoked(REVOKED), Protection.ON, ReuseAction.REVOKE_FAMILY))
                .isEqualTo(new Answer.RefuseRevoked(REVOKED));
        assertThat(Answer.of(new RotationOutcome.Unknown("f9"), Protection.ON, ReuseAction.REVOKE_FAMILY))
                .isEqualTo(new Answer.RefuseUnknown("f9"));
        assertThat(Answer.of(new RotationOutcome.Stale(), Protection.ON, ReuseAction.ALERT_ONLY)).isEqualTo(new Answer.RefuseStale());
    }

    @ParameterizedTest
    @EnumSource(ReuseAction.class)
    void switchedOffEverythingIsServedUnrotatedAndNothingRaised(ReuseAction action) {
        for (RotationOutcome outcome : new RotationOutcome[] {REUSED, new RotationOutcome.Revoked(REVOKED),
                new RotationOutcome.Unknown("f9"), new RotationOutcome.Stale()}) {
            assertThat(Answer.of(outcome, Protection.BOOKKEEPING, action)).as("%s", outcome).isEqualTo(new Answer.ServeUnrotated(null));
        }
        assertThat(Answer.of(new RotationOutcome.Rotated(), Protection.BOOKKEEPING, action)).isEqualTo(new Answer.Issue());
    }

    /** Reuse per action, each named: three refuse with their own action, alert-only serves unrotated and alerts. */
    @Test
    void reuseAnswerForEachOfTheFourActions() {
        assertThat(Answer.of(REUSED, Protection.ON, ReuseAction.REVOKE_FAMILY))
                .isEqualTo(new Answer.RefuseReuse(REUSED, ReuseAction.REVOKE_FAMILY));
        assertThat(Answer.of(REUSED, Protection.ON, ReuseAction.REVOKE_USER_SESSION))
                .isEqualTo(new Answer.RefuseReuse(REUSED, ReuseAction.REVOKE_USER_SESSION));
        assertThat(Answer.of(REUSED, Protection.ON, ReuseAction.REVOKE_ALL_SESSIONS))
                .isEqualTo(new Answer.RefuseReuse(REUSED, ReuseAction.REVOKE_ALL_SESSIONS));
        Answer alertOnly = Answer.of(REUSED, Protection.ON, ReuseAction.ALERT_ONLY);
        assertThat(alertOnly).isEqualTo(new Answer.ServeUnrotated(REUSED));
        assertThat(((Answer.ServeUnrotated) alertOnly).alert()).as("alert-only still raises the alert").isSameAs(REUSED);
    }

    /** Every outcome other than reuse is answered the same whatever the action. */
    @ParameterizedTest
    @EnumSource(ReuseAction.class)
    void nonReuseOutcomesDoNotDependOnTheAction(ReuseAction action) {
        assertThat(Answer.of(new RotationOutcome.Rotated(), Protection.ON, action)).isEqualTo(new Answer.Issue());
        assertThat(Answer.of(new RotationOutcome.GraceReplay("s", 7), Protection.ON, action)).isEqualTo(new Answer.Replay("s", 7));
        assertThat(Answer.of(new RotationOutcome.Revoked(REVOKED), Protection.ON, action)).isEqualTo(new Answer.RefuseRevoked(REVOKED));
        assertThat(Answer.of(new RotationOutcome.Unknown("f9"), Protection.ON, action)).isEqualTo(new Answer.RefuseUnknown("f9"));
        assertThat(Answer.of(new RotationOutcome.Stale(), Protection.ON, action)).isEqualTo(new Answer.RefuseStale());
    }

    /** A realm never protected (stock) or switched off (bookkeeping): the same stock answers, no alert, no refusal. */
    @ParameterizedTest
    @EnumSource(value = Protection.class, names = "ON", mode = EnumSource.Mode.EXCLUDE)
    void realmOffOrNeverProtectedRefusesNothing(Protection mode) {
        for (ReuseAction action : ReuseAction.values()) {
            for (RotationOutcome outcome : new RotationOutcome[] {REUSED, new RotationOutcome.Revoked(REVOKED),
                    new RotationOutcome.Unknown("f9"), new RotationOutcome.Stale()}) {
                assertThat(Answer.of(outcome, mode, action)).as("%s %s %s", mode, action, outcome)
                        .isEqualTo(new Answer.ServeUnrotated(null));
            }
            assertThat(Answer.of(new RotationOutcome.Rotated(), mode, action)).isEqualTo(new Answer.Issue());
            assertThat(Answer.of(new RotationOutcome.GraceReplay("s", 7), mode, action)).isEqualTo(new Answer.Replay("s", 7));
        }
    }
}
