package dev.refreshguard.reuse;

import static dev.refreshguard.reuse.FakeRevocationSteps.family;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.refreshguard.store.Family;
import dev.refreshguard.policy.ReuseAction;

/**
 * Each reuse action, against a fake ledger: which families it revokes (tree, online session, whole user) and which
 * sessions it ends. The user has a reused family with one exchanged child, a second client in the same login, and an
 * offline family; what the server does with them is proven by ReuseIT.
 */
class RevocationActionsTest {

    private final Family reused = family("reused", "s1", false);
    private final Family child = family("child", "s1", false);
    private final Family sameLogin = family("same-login", "s1", false);
    private final Family offline = family("offline", "s2", true);
    private FakeRevocationSteps steps;

    @BeforeEach
    void user() {
        steps = new FakeRevocationSteps(List.of(reused, child), List.of(reused, child, sameLogin),
                List.of(reused, child, sameLogin, offline));
    }

    @Test
    void revokeFamilyRevokesTheTreeAndEndsItsClientSessions() {
        Revocation.Result result = new RevokeFamily().apply(steps);

        assertThat(steps.revoked).containsExactly(reused, child);
        assertThat(steps.clientSessionsEnded).containsExactly(reused, child);
        assertThat(steps.steps).containsExactly("revoke tree", "end client sessions");
        assertThat(result).isEqualTo(new Revocation.Result(2, 2));
    }

    @Test
    void revokeUserSessionRevokesTheLoginsFamiliesAndEndsThatUserSession() {
        Revocation.Result result = new RevokeUserSession().apply(steps);

        assertThat(steps.revoked).containsExactly(reused, child, sameLogin).doesNotContain(offline);
        assertThat(steps.clientSessionsEnded).containsExactly(reused, child);
        assertThat(steps.steps).containsExactly("revoke tree", "end client sessions", "revoke online session", "end user session");
        assertThat(result).as("one user session ended; three families").isEqualTo(new Revocation.Result(1, 3));
    }

    @Test
    void revokeUserSessionWhoseSessionIsGoneCountsTheClientSessionsEnded() {
        steps.userSessionExists = false;

        Revocation.Result result = new RevokeUserSession().apply(steps);

        assertThat(steps.revoked).containsExactly(reused, child, sameLogin);
        assertThat(result).isEqualTo(new Revocation.Result(2, 3));
    }

    @Test
    void revokeAllSessionsRevokesEveryFamilyOfTheUserAndEndsAllSessions() {
        Revocation.Result result = new RevokeAllSessions().apply(steps);

        assertThat(steps.revoked).containsExactly(reused, child, sameLogin, offline);
        assertThat(steps.clientSessionsEnded).containsExactly(reused, child);
        assertThat(steps.steps).containsExactly("revoke tree", "end client sessions", "revoke user", "end all sessions of user");
        assertThat(result).as("the user's sessions ended; four families").isEqualTo(new Revocation.Result(3, 4));
    }

    @Test
    void revokeAllSessionsOfAUserSinceDeletedStillRevokesTheFamilies() {
        steps.sessionsOfUser = 0;

        assertThat(new RevokeAllSessions().apply(steps)).isEqualTo(new Revocation.Result(0, 4));
        assertThat(steps.revoked).containsExactly(reused, child, sameLogin, offline);
    }

    @Test
    void alertOnlyRevokesNothingAndEndsNothing() {
        assertThat(new AlertOnly().apply(steps)).isEqualTo(new Revocation.Result(0, 0));
        assertThat(steps.steps).isEmpty();
        assertThat(steps.revoked).isEmpty();
    }

    @Test
    void eachActionHasItsClass() {
        assertThat(Revocation.of(ReuseAction.REVOKE_FAMILY)).isInstanceOf(RevokeFamily.class);
        assertThat(Revocation.of(ReuseAction.REVOKE_USER_SESSION)).isInstanceOf(RevokeUserSession.class);
        assertThat(Revocation.of(ReuseAction.REVOKE_ALL_SESSIONS)).isInstanceOf(RevokeAllSessions.class);
        assertThat(Revocation.of(ReuseAction.ALERT_ONLY)).isInstanceOf(AlertOnly.class);
    }
}
