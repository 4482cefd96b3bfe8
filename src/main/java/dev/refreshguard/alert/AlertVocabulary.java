package dev.refreshguard.alert;

/**
 * Every word refresh-guard puts into a Keycloak event or the alert JSON line, in one place: security teams
 * filter on these strings, so they change only here and only on purpose. Revocation reasons are
 * {@link dev.refreshguard.store.RevocationReason}.
 */
public final class AlertVocabulary {

    private AlertVocabulary() {
    }

    // Event error codes (REFRESH_TOKEN_ERROR, TOKEN_EXCHANGE_ERROR).
    /** A rotated-away refresh token was presented again. */
    public static final String ERROR_REUSED = "refresh_token_reused";
    /** The token's family is revoked or not known to this server. */
    public static final String ERROR_FAMILY_REVOKED = "refresh_token_family_revoked";
    /** The token's family is past its idle or maximum lifetime. */
    public static final String ERROR_EXPIRED = "refresh_token_expired";
    /** A token replaced by a newer one before the realm was protected. */
    public static final String ERROR_STALE = "refresh_token_stale";

    // Event detail keys (user events and the admin event of a revocation).
    public static final String FAMILY_ID = "family_id";
    public static final String GENERATION = "generation";
    public static final String LATEST_GENERATION = "latest_generation";
    public static final String SECONDS_SINCE_ROTATION = "seconds_since_rotation";
    public static final String FIRST_USE_IP = "first_use_ip";
    public static final String ACTION = "action";
    public static final String SESSIONS_REVOKED = "sessions_revoked";
    public static final String GRACE_REPLAY = "grace_replay";
    public static final String USER_ID = "user_id";
    public static final String CLIENT_ID = "client_id";
    public static final String FAMILIES_REVOKED = "families_revoked";
    // The evidence of a reuse alert and its verdict (likely-retry, likely-theft, inconclusive): true, false or unknown.
    public static final String VERDICT = "verdict";
    public static final String SAME_IP = "same_ip";
    public static final String SAME_USER_AGENT = "same_user_agent";
    public static final String SAME_DPOP_KEY = "same_dpop_key";
    public static final String SAME_SESSION = "same_session";
    /** The reuses the family's current incident counted so far, this one included. */
    public static final String INCIDENT_COUNT = "incident_count";
    /** What revealed the reuse: {@code rotated-token} (presented again) or {@code dpop-key} (another DPoP key). */
    public static final String SIGNAL = "signal";
    public static final String SIGNAL_ROTATED = "rotated-token";
    public static final String SIGNAL_DPOP_KEY = "dpop-key";

    /** The text of the {@link #GRACE_REPLAY} detail and of an unknown alert fact. */
    public static final String TRUE = "true";
    public static final String UNKNOWN = "unknown";

    // Fields of the alert JSON line only; the others are the detail keys above.
    public static final String JSON_ALERT = "alert";
    /** The alert of a realm whose protection was switched off, and the resource type of its admin event. */
    public static final String PROTECTION_OFF = "refresh_guard_protection_off";
    /** The line of a client whose rotation Keycloak's configuration overrides; its field with the policy endpoint's block. */
    public static final String ROTATION_OVERRIDDEN = "refresh_guard_rotation_overridden";
    public static final String JSON_ROTATION = "rotation";
    public static final String PROTECTION_RESOURCE = "REFRESH_GUARD_PROTECTION";
    /** The alert of a user who followed "This wasn't me" in a reuse letter. */
    public static final String WASNT_ME = "refresh_guard_wasnt_me";
    /** The event listener whose removal switches a realm's protection off. */
    public static final String LISTENER = dev.refreshguard.Jar.PROVIDER_ID;
    public static final String JSON_TIMESTAMP = "timestamp";
    public static final String JSON_REALM = "realm";
    public static final String JSON_SESSION_ID = "session_id";
    public static final String JSON_IP_ADDRESS = "ip_address";
    public static final String JSON_USER_AGENT = "user_agent";
}
