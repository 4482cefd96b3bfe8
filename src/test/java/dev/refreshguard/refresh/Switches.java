package dev.refreshguard.refresh;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.Ledger;
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

    /**
     * Until the server has remembered that the realm was protected (realm attribute refresh-guard.protected-since,
     * written off the request thread after the first refresh-token request it saw protected). Only a remembered realm
     * keeps the ledger's bookkeeping while switched off; switched off before that, it is a stock realm, and the
     * tokens it then issues carry no family (a race reported with these tests, not what they are about).
     */
    static void awaitRemembered(TestRealm realm) {
        Await.until(Duration.ofSeconds(30), "realm " + realm.name + " remembered as protected", () -> realm.admin
                .ok("GET", "/" + realm.name, null).json().path("attributes").has("refresh-guard.protected-since"));
    }

    static String realmId(TestRealm realm) {
        return realm.admin.ok("GET", "/" + realm.name, null).text("id");
    }

    /** "id state generation" of every family of the realm. */
    static List<String> families(TestRealm realm) {
        List<String> out = new ArrayList<>();
        for (Map<String, Object> row : Ledger.of(realm.server).rows("SELECT id, state, generation FROM RG_FAMILY"
                + " WHERE realm_id = ? ORDER BY id", realmId(realm))) {
            out.add(row.get("id") + " " + row.get("state") + " " + ((Number) row.get("generation")).intValue());
        }
        return out;
    }
}
