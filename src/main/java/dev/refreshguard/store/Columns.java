package dev.refreshguard.store;

import java.sql.Clob;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import jakarta.persistence.Query;

/**
 * The column list of one SELECT and the reader of its rows by column name: the list is written once, and a row is
 * never read by position. Values are normalised across databases (numbers, booleans stored as 0/1, CLOBs).
 */
final class Columns {

    private final String[] names;
    private final String list;
    private final Map<String, Integer> index = new HashMap<>();

    /** @param names column names, or expressions with {@code AS NAME}: a row is read by the name either way */
    Columns(String... names) {
        this.names = names.clone();
        this.list = String.join(", ", names);
        for (int i = 0; i < names.length; i++) {
            int alias = names[i].lastIndexOf(" AS ");
            index.put(alias < 0 ? names[i] : names[i].substring(alias + 4), i);
        }
    }

    /** These columns and {@code more} after them. */
    Columns plus(String... more) {
        String[] all = java.util.Arrays.copyOf(names, names.length + more.length);
        System.arraycopy(more, 0, all, names.length, more.length);
        return new Columns(all);
    }

    /** The list for the SELECT, e.g. {@code "ID, REALM_ID"}. */
    String list() {
        return list;
    }

    List<Row> rows(Query query) {
        List<Row> out = new ArrayList<>();
        for (Object raw : query.getResultList()) {
            out.add(row(raw));
        }
        return out;
    }

    /** One result of a native query: an array, or the bare value when one column is selected. */
    Row row(Object raw) {
        return new Row(raw instanceof Object[] values ? values : new Object[] {raw});
    }

    /** One row of this SELECT. */
    final class Row {

        private final Object[] values;

        private Row(Object[] values) {
            this.values = values;
        }

        private Object get(String column) {
            Integer at = index.get(column);
            if (at == null) {
                throw new IllegalArgumentException(column + " is not selected (" + list + ")");
            }
            return values[at];
        }

        String text(String column) {
            Object value = get(column);
            if (value instanceof Clob clob) {
                try {
                    return clob.getSubString(1, (int) clob.length());
                } catch (SQLException e) {
                    return null;
                }
            }
            return (String) value;
        }

        /** Text, with "" (how the store writes "absent") read as null. */
        String optionalText(String column) {
            String value = text(column);
            return value == null || value.isEmpty() ? null : value;
        }

        long number(String column) {
            Object value = get(column);
            return value == null ? 0 : ((Number) value).longValue();
        }

        int integer(String column) {
            return (int) number(column);
        }

        boolean bool(String column) {
            Object value = get(column);
            if (value instanceof Boolean b) {
                return b;
            }
            if (value instanceof String s) {
                return "1".equals(s) || "true".equalsIgnoreCase(s);
            }
            return value instanceof Number n && n.intValue() != 0;
        }
    }
}
