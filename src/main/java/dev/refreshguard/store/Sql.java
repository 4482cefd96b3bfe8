package dev.refreshguard.store;

import java.util.ArrayList;
import java.util.List;

import org.jboss.logging.Logger;

/** What every statement of the store shares: parameter hygiene, id checks and IN-list chunks. */
final class Sql {

    /**
     * Statements sent as plain JDBC bypass Hibernate's {@code org.hibernate.SQL} log; they are logged on this category
     * at DEBUG, so that one category more shows every statement (and the benchmark can count them).
     */
    static final Logger LOG = Logger.getLogger(FamilyLedger.SQL_LOG_CATEGORY);
    private static final int MAX_IP = 64;
    /**
     * Ids per IN list. Oracle allows 1,000 list entries and SQL Server 2,100 parameters per statement; 500 stays
     * well within both, and within every other database Keycloak supports.
     */
    static final int CHUNK = 500;

    private Sql() {
    }

    /** Consecutive slices of at most {@link #CHUNK} ids: one IN list per statement stays within every database's limits. */
    static List<List<String>> chunks(List<String> ids) {
        List<List<String>> out = new ArrayList<>();
        for (int from = 0; from < ids.size(); from += CHUNK) {
            out.add(ids.subList(from, Math.min(ids.size(), from + CHUNK)));
        }
        return out;
    }

    /**
     * Family ids are Keycloak-generated (UUID text). Anything else names no family and never reaches the database:
     * an id from an admin's URL may hold a NUL, which PostgreSQL refuses in text parameters (a 5xx, not a 404).
     */
    static boolean plausibleId(String id) {
        if (id == null || id.isEmpty() || id.length() > 36) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_')) {
                return false;
            }
        }
        return true;
    }

    // Parameters are never bound as null: untyped null binds differ between databases; "" means absent.
    static String clip(String ip) {
        String value = orEmpty(ip);
        return value.length() <= MAX_IP ? value : value.substring(0, MAX_IP);
    }

    static String orEmpty(String value) {
        return value == null ? "" : value;
    }
}
