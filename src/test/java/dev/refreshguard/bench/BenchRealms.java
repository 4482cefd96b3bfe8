package dev.refreshguard.bench;

import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.refreshguard.bench.onewrite.OneWriteListenerFactory;
import dev.refreshguard.harness.Http;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.TestRealm;
import dev.refreshguard.policy.Attribute;

/**
 * The realms of a benchmark, alike but for protection: both reject a used refresh token, the protected one by
 * refresh-guard (grace 0, revoke-family), the stock one by Keycloak's own "Revoke Refresh Token" (max reuse 0).
 * A third, Keycloak exactly as it comes (reuse not detected at all), is measured for reference. On a server with
 * the test-only provider {@code bench-one-write} ({@link OneWriteJar}) a fourth, {@code oneWrite}: Keycloak's
 * defaults plus one durable write of a family-sized row per refresh, without refresh-guard — the reference the
 * protected realm's own cost is measured against. Users {@code bench-0..n-1} (password = user name) exist in every
 * realm; the protected realm also has a client with a grace window.
 */
record BenchRealms(TestRealm guarded, TestRealm stock, TestRealm reference, TestRealm oneWrite, List<String> users) {

    static final String CLIENT = "spa";
    static final String GRACE_CLIENT = "graceful";

    static BenchRealms create(KeycloakServer server, int users, int graceSeconds) {
        return create(server, users, graceSeconds, false);
    }

    /** With {@code oneWrite}: also the one-write reference realm (its provider must be installed on the server). */
    static BenchRealms create(KeycloakServer server, int users, int graceSeconds, boolean oneWrite) {
        TestRealm guarded = TestRealm.guarded(server, "bench-guarded", Map.of(
                Attribute.GRACE_SECONDS.key(), "0", Attribute.REUSE_ACTION.key(), "revoke-family"));
        TestRealm stock = TestRealm.stock(server, "bench-stock");
        TestRealm reference = TestRealm.stock(server, "bench-default");
        // Keycloak's default: no event store. Listeners (refresh-guard among them) still see every event.
        update(guarded, Map.of("eventsEnabled", false));
        update(stock, Map.of("eventsEnabled", false, "revokeRefreshToken", true, "refreshTokenMaxReuse", 0));
        update(reference, Map.of("eventsEnabled", false));
        TestRealm written = oneWrite ? TestRealm.stock(server, "bench-one-write") : null;
        if (written != null) {
            update(written, Map.of("eventsEnabled", false,
                    "eventsListeners", List.of("jboss-logging", OneWriteListenerFactory.ID)));
        }
        List<String> names = IntStream.range(0, users).mapToObj(i -> "bench-" + i).toList();
        for (String name : names) {
            guarded.addUser(name);
            stock.addUser(name);
            reference.addUser(name);
            if (written != null) {
                written.addUser(name);
            }
        }
        guarded.addPublicClient(GRACE_CLIENT);
        guarded.clientAttributes(GRACE_CLIENT, Map.of(Attribute.GRACE_SECONDS.key(), String.valueOf(graceSeconds)));
        return new BenchRealms(guarded, stock, reference, written, names);
    }

    private static void update(TestRealm realm, Map<String, Object> changes) {
        ObjectNode rep = (ObjectNode) realm.admin.ok("GET", "/" + realm.name, null).json();
        changes.forEach((field, value) -> rep.set(field, Http.JSON.valueToTree(value)));
        realm.admin.ok("PUT", "/" + realm.name, rep);
    }
}
