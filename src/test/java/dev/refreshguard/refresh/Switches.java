package dev.refreshguard.refresh;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.refreshguard.harness.TestRealm;

/** Switching protection of a test realm on and off as an admin does, and the ledger's rows of a realm. */
final class Switches {

    private Switches() {
    }

    static void protect(TestRealm realm, boolean on) {
        realm.admin.ok("PUT", "/" + realm.name + "/events/config", Map.of("eventsEnabled", true,
                "eventsListeners", on ? List.of("jboss-logging", "refresh-guard") : List.of("jboss-logging"),
                "enabledEventTypes", TestRealm.SAVED_EVENTS));
    }

    static String realmId(TestRealm realm) {
        return realm.admin.ok("GET", "/" + realm.name, null).text("id");
    }

    /** "id state generation" of every family of the realm. */
    static List<String> families(TestRealm realm) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection db = DriverManager.getConnection(realm.server.jdbcUrl(), "postgres", "");
             PreparedStatement q = db.prepareStatement("SELECT id, state, generation FROM RG_FAMILY WHERE realm_id = ? ORDER BY id")) {
            q.setString(1, realmId(realm));
            try (ResultSet rows = q.executeQuery()) {
                while (rows.next()) {
                    out.add(rows.getString(1) + " " + rows.getString(2) + " " + rows.getInt(3));
                }
            }
        }
        return out;
    }
}
