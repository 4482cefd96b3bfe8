package dev.refreshguard.harness;

import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;

/** The REFRESH_TOKEN_ERROR events refresh-guard raises for one family, as the admin events API shows them. */
public final class FamilyEvents {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private FamilyEvents() {
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
