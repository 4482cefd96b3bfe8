package dev.refreshguard.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

import dev.refreshguard.harness.DistributionServer;

/** The stored state of one family, read straight from the server's PostgreSQL database (the benchmark runs on PostgreSQL). */
final class FamilyRow {

    /** What one family occupies after a number of rotations: its generation and the bytes of its one row. */
    record Size(int rotations, int generation, int rows, int bytes) {
    }

    private final String jdbcUrl;

    FamilyRow(String jdbcUrl) {
        this.jdbcUrl = jdbcUrl;
    }

    Size measure(String familyId, int rotations) {
        // pg_column_size of the whole row: header plus every column as stored (TOAST-compressed values included).
        try (Connection c = DriverManager.getConnection(jdbcUrl, DistributionServer.Postgres.USER, "");
             PreparedStatement s = c.prepareStatement("SELECT count(*) OVER (), generation, pg_column_size(f.*)"
                     + " FROM RG_FAMILY f WHERE id = ?")) {
            s.setString(1, familyId);
            try (ResultSet r = s.executeQuery()) {
                if (!r.next()) {
                    throw new IllegalStateException("family " + familyId + " has no row");
                }
                return new Size(rotations, r.getInt(2), r.getInt(1), r.getInt(3));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read family " + familyId + " from " + jdbcUrl, e);
        }
    }
}
