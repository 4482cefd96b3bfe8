package dev.refreshguard.family;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.refreshguard.policy.ClientKind;
import dev.refreshguard.policy.Policy;
import dev.refreshguard.store.LiveFamily;

/** When the purge judges a live family unusable by time alone (its session still exists). */
class FamilyPurgeTest {

    private static final long NOW = 1_800_000_000L;

    private static FamilyPurge.ClientFacts client(Map<String, String> attributes, int notBefore) {
        return new FamilyPurge.ClientFacts(Policy.resolve(attributes, Map.of(), ClientKind.CONFIDENTIAL), notBefore);
    }

    /** A family started {@code age} seconds ago, last rotated {@code idle} seconds ago, newest token expiring at {@code exp}. */
    private static LiveFamily family(boolean offline, int generation, long age, long idle, long exp) {
        return new LiveFamily("f", "r", "c", "s", offline, generation, NOW - age, NOW - idle, exp, false, "u");
    }

    @Test
    void withoutLimitsOfItsOwnAFamilyLivesUntilItsNewestTokenExpires() {
        FamilyPurge.ClientFacts defaults = client(Map.of(), 0);
        assertThat(FamilyPurge.unusable(family(false, 3, 86_400, 60, NOW + 1), defaults, 0, NOW)).isFalse();
        assertThat(FamilyPurge.unusable(family(false, 3, 86_400, 60, NOW - 1), defaults, 0, NOW)).isTrue();
        // No expiry known (never rotated, or an offline token without one): time alone never ends it.
        assertThat(FamilyPurge.unusable(family(false, 0, 10 * 86_400, 10 * 86_400, 0), defaults, 0, NOW)).isFalse();
        assertThat(FamilyPurge.unusable(family(true, 5, 10 * 86_400, 60, 0), defaults, 0, NOW)).isFalse();
    }

    @Test
    void itsOwnMaximumCountsFromItsStartAndIdleFromItsLastRotation() {
        FamilyPurge.ClientFacts limited = client(Map.of("refresh.guard.max.seconds", "3600", "refresh.guard.idle.seconds", "600"), 0);
        assertThat(FamilyPurge.unusable(family(false, 1, 3599, 10, 0), limited, 0, NOW)).isFalse();
        assertThat(FamilyPurge.unusable(family(false, 1, 3601, 10, 0), limited, 0, NOW)).isTrue();
        assertThat(FamilyPurge.unusable(family(false, 1, 700, 601, 0), limited, 0, NOW)).isTrue();
        // Offline families have limits of their own (none here).
        assertThat(FamilyPurge.unusable(family(true, 1, 7200, 7000, 0), limited, 0, NOW)).isFalse();
    }

    @Test
    void withRotationOffOnlyTheMaximumCountsForTheLedgerSeesNoRefresh() {
        FamilyPurge.ClientFacts off = client(Map.of("refresh.guard.rotation", "off", "refresh.guard.idle.seconds", "60",
                "refresh.guard.max.seconds", "3600"), (int) NOW);
        assertThat(FamilyPurge.unusable(family(false, 2, 1000, 900, NOW - 500), off, 0, NOW)).isFalse();
        assertThat(FamilyPurge.unusable(family(false, 2, 3601, 900, NOW - 500), off, 0, NOW)).isTrue();
    }

    @Test
    void aNotBeforeAfterItsNewestTokenEndsIt() {
        assertThat(FamilyPurge.unusable(family(false, 1, 100, 50, 0), client(Map.of(), (int) NOW - 49), 0, NOW)).isTrue();
        assertThat(FamilyPurge.unusable(family(false, 1, 100, 50, 0), client(Map.of(), (int) NOW - 50), 0, NOW)).isFalse();
    }

    @Test
    void theUsersNotBeforeCountsLikeTheClients() {
        FamilyPurge.ClientFacts defaults = client(Map.of(), 0);
        assertThat(FamilyPurge.unusable(family(true, 1, 100, 50, 0), defaults, (int) NOW - 49, NOW)).isTrue();
        assertThat(FamilyPurge.unusable(family(true, 1, 100, 50, 0), defaults, (int) NOW - 50, NOW)).isFalse();
    }
}
