package dev.refreshguard.family;

import java.util.List;
import java.util.Map;
import java.util.Optional;

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

    /** The sealed successor kept for a grace replay; "" when none is kept. */
    Optional<String> successor(String familyId) {
        return column("COALESCE(SUCCESSOR, '') AS SUCCESSOR", familyId);
    }

    private Optional<String> column(String column, String familyId) {
        List<Map<String, Object>> rows = ledger.rows("SELECT " + column + " FROM RG_FAMILY WHERE ID = ?", familyId);
        return rows.stream().findFirst().map(row -> (String) row.values().iterator().next());
    }
}
