package dev.refreshguard.family;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

import dev.refreshguard.harness.DistributionServer;

/** RG_FAMILY as the server left it, read over JDBC: where the ledger itself is the point. */
final class FamilyRows {

    private final String jdbcUrl;

    FamilyRows(String jdbcUrl) {
        if (jdbcUrl == null) {
            throw new IllegalStateException("these tests read RG_FAMILY and need the server's database");
        }
        this.jdbcUrl = jdbcUrl;
    }

    /** Rows matching {@code where} (with ? placeholders bound to {@code values}). */
    long count(String where, Object... values) {
        return query("SELECT COUNT(*) FROM RG_FAMILY WHERE " + where, values, rs -> rs.getLong(1)).orElse(0L);
    }

    boolean exists(String familyId) {
        return count("ID = ?", familyId) == 1;
    }

    Optional<String> state(String familyId) {
        return query("SELECT STATE FROM RG_FAMILY WHERE ID = ?", new Object[] {familyId}, rs -> rs.getString(1));
    }

    /** The sealed successor kept for a grace replay; "" or null when none is kept. */
    Optional<String> successor(String familyId) {
        return query("SELECT COALESCE(SUCCESSOR, '') FROM RG_FAMILY WHERE ID = ?", new Object[] {familyId}, rs -> rs.getString(1));
    }

    private interface Read<T> {
        T from(ResultSet rs) throws SQLException;
    }

    private <T> Optional<T> query(String sql, Object[] values, Read<T> read) {
        try (Connection c = DriverManager.getConnection(jdbcUrl, DistributionServer.Postgres.USER, "");
             PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < values.length; i++) {
                s.setObject(i + 1, values[i]);
            }
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.ofNullable(read.from(rs)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }
}
