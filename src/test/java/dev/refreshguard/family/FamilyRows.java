package dev.refreshguard.family;

import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.Ledger;

/** RG_FAMILY as the server left it, read over JDBC: where the ledger itself is the point. */
final class FamilyRows {

    private final Ledger ledger;

    FamilyRows(String jdbcUrl) {
        this.ledger = Ledger.of(jdbcUrl);
    }

    /** Rows matching {@code where} (with ? placeholders bound to {@code values}). */
    long count(String where, Object... values) {
        return ledger.count(where, values);
    }

    boolean exists(String familyId) {
        return count("ID = ?", familyId) == 1;
    }

    Optional<String> state(String familyId) {
        return column("STATE", familyId);
    }

    /**
     * Waits for the purge to delete each family's row, having seen it in {@code state} first (ENDED or REVOKED:
     * what the purge deletes), so that the row's absence proves a deletion. Fails at once when a row is absent that
     * was not seen in that state: it never existed, or it vanished unseen.
     */
    void awaitPurged(List<String> familyIds, String state, Duration timeout) {
        Map<String, String> lastSeen = new LinkedHashMap<>();
        Set<String> seenInState = new HashSet<>();
        try {
            Await.until(timeout, familyIds + " to be seen " + state + ", then deleted", () -> {
                boolean allDeleted = true;
                for (String familyId : familyIds) {
                    Optional<String> now = state(familyId);
                    if (now.isPresent()) {
                        lastSeen.put(familyId, now.get());
                        if (state.equals(now.get())) {
                            seenInState.add(familyId);
                        }
                        allDeleted = false;
                    } else if (!seenInState.contains(familyId)) {
                        throw new AssertionError("family " + familyId + " has no row, and was not seen " + state + " before"
                                + (lastSeen.containsKey(familyId) ? " (last seen " + lastSeen.get(familyId) + ")" : " (never seen at all)"));
                    }
                }
                return allDeleted;
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; states last seen: " + lastSeen + ", seen " + state + ": " + seenInState, e);
        }
    }

    void awaitPurged(String familyId, String state, Duration timeout) {
        awaitPurged(List.of(familyId), state, timeout);
    }

    /** The sealed successor kept for a grace replay; "" when none is kept. */
    Optional<String> successor(String familyId) {
        return column("COALESCE(SUCCESSOR, '') AS SUCCESSOR", familyId);
    }

    private Optional<String> column(String column, String familyId) {
        List<Map<String, Object>> rows = ledger.rows("SELECT " + column + " FROM RG_FAMILY WHERE ID = ?", familyId);
        return rows.stream().findFirst().map(row -> (String) row.values().iterator().next());
    }
}
