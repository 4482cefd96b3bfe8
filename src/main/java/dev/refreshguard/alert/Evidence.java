package dev.refreshguard.alert;

/**
 * The facts a reuse alert rests on, each comparing the presenter with whoever used the presented token first (rotated
 * it away). A null fact is unknown: the presented token is older than the family's last rotation (only that rotation's
 * presenter is kept), or the request did not carry what is compared.
 *
 * @param sameIp               presenter address equals the first use's address
 * @param sameUserAgent        presenter User-Agent hashes to the first use's hash
 * @param sameDpopKey          the DPoP key of the presenter's proof equals the first use's (or the token's binding);
 *                             null when neither request carried a DPoP proof
 * @param secondsSinceRotation seconds since the presented token was rotated away; -1 when unknown
 * @param sameSession          the presented token names the family's user session
 */
public record Evidence(Boolean sameIp, Boolean sameUserAgent, Boolean sameDpopKey, long secondsSinceRotation,
                       Boolean sameSession) {

    /** A fact as event-detail text: {@code true}, {@code false} or {@code unknown}. */
    static String text(Boolean fact) {
        return fact == null ? AlertVocabulary.UNKNOWN : fact.toString();
    }

    /** Two optional values compared: unknown when either side is missing. */
    public static Boolean same(String a, String b) {
        return a == null || b == null ? null : a.equals(b);
    }

    /** DPoP keys compared: unknown when neither side used DPoP, different when only one did. */
    public static Boolean sameKey(String first, String presenter) {
        if (first == null && presenter == null) {
            return null;
        }
        return first != null && first.equals(presenter);
    }
}
