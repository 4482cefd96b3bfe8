package dev.refreshguard.harness;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The server's RG_FAMILY (and RG_SCHEDULE) tables as it left them, read or seeded over JDBC on the backend under
 * test: for the tests where what was persisted is the point, not what the server answers. One connection per call,
 * {@code ?} placeholders bound in order; column names come back in lower case.
 */
public final class Ledger {

    private final String jdbcUrl;

    private Ledger(String jdbcUrl) {
        if (jdbcUrl == null) {
            throw new IllegalStateException("this test reads the ledger and needs the server's database (it has no JDBC URL)");
        }
        this.jdbcUrl = jdbcUrl;
    }

    public static Ledger of(KeycloakServer server) {
        return new Ledger(server.jdbcUrl());
    }

    public static Ledger of(String jdbcUrl) {
        return new Ledger(jdbcUrl);
    }

    /** Every row the query returns, each as column → value. */
    public List<Map<String, Object>> rows(String sql, Object... values) {
        try (Connection c = Database.connect(jdbcUrl); PreparedStatement s = prepared(c, sql, values);
             ResultSet rs = s.executeQuery()) {
            ResultSetMetaData meta = rs.getMetaData();
            List<Map<String, Object>> rows = new ArrayList<>();
            while (rs.next()) {
                Map<String, Object> row = new TreeMap<>();
                for (int i = 1; i <= meta.getColumnCount(); i++) {
                    row.put(meta.getColumnLabel(i).toLowerCase(Locale.ROOT), rs.getObject(i));
                }
                rows.add(row);
            }
            return rows;
        } catch (SQLException e) {
            throw new IllegalStateException("ledger query failed: " + sql, e);
        }
    }

    /** The one family row with this id, every column. */
    public Map<String, Object> family(String familyId) {
        List<Map<String, Object>> rows = rows("SELECT * FROM RG_FAMILY WHERE ID = ?", familyId);
        if (rows.size() != 1) {
            throw new AssertionError("expected one ledger row of family " + familyId + ", found " + rows.size());
        }
        return rows.get(0);
    }

    /** Rows of RG_FAMILY matching {@code where}. */
    public long count(String where, Object... values) {
        Object count = rows("SELECT COUNT(*) AS N FROM RG_FAMILY WHERE " + where, values).get(0).get("n");
        return ((Number) count).longValue();
    }

    /**
     * Runs an INSERT, UPDATE or DELETE once per set of values, all in one transaction (the server sees all of them
     * or none); returns the rows changed in all.
     */
    public int update(String sql, List<Object[]> valueSets) {
        try (Connection c = Database.connect(jdbcUrl); PreparedStatement s = c.prepareStatement(sql)) {
            c.setAutoCommit(false);
            int changed = 0;
            for (Object[] values : valueSets) {
                bind(s, values);
                changed += s.executeUpdate();
            }
            c.commit();
            return changed;
        } catch (SQLException e) {
            throw new IllegalStateException("ledger update failed: " + sql, e);
        }
    }

    public int update(String sql, Object... values) {
        return update(sql, List.<Object[]>of(values));
    }

    private static PreparedStatement prepared(Connection c, String sql, Object[] values) throws SQLException {
        PreparedStatement s = c.prepareStatement(sql);
        bind(s, values);
        return s;
    }

    private static void bind(PreparedStatement s, Object[] values) throws SQLException {
        for (int i = 0; i < values.length; i++) {
            s.setObject(i + 1, values[i]);
        }
    }
}
