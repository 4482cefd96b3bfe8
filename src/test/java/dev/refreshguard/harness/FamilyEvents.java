package dev.refreshguard.harness;

import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;

/** The REFRESH_TOKEN_ERROR events refresh-guard raises for one family, as the admin events API shows them. */
public final class FamilyEvents {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private FamilyEvents() {
    }

    /**
     * The one REFRESH_TOKEN_ERROR event with this error in the realm: waits for it, then keeps looking for a
     * duplicate for {@link Await#SETTLE} before it returns it.
     */
    public static JsonNode only(Admin admin, String realm, String error) {
        return Await.exactlyOne(WAIT, "REFRESH_TOKEN_ERROR event with error " + error + " in realm " + realm,
                () -> admin.events(realm, "REFRESH_TOKEN_ERROR", error));
    }

    /** As {@link #only(Admin, String, String)}, among the events of one family. */
    public static JsonNode only(Admin admin, String realm, String error, String familyId) {
        return Await.exactlyOne(WAIT, "REFRESH_TOKEN_ERROR event with error " + error + " for family " + familyId,
                () -> admin.events(realm, "REFRESH_TOKEN_ERROR", error).stream()
                        .filter(e -> familyId.equals(e.path("details").path("family_id").asText())).toList());
    }

    /** The newest event with this error for this family, raised at or after {@code sinceMillis}; waits for it. */
    public static JsonNode await(Admin admin, String realm, String error, String familyId, long sinceMillis) {
        return Await.value(WAIT, "event " + error + " for family " + familyId, () -> admin
                .events(realm, "REFRESH_TOKEN_ERROR", error).stream()
                .filter(e -> familyId.equals(e.path("details").path("family_id").asText()))
                .filter(e -> e.path("time").asLong() >= sinceMillis)
                .findFirst().orElse(null));
    }
}
