package dev.refreshguard.family;

import java.util.Arrays;
import java.util.Optional;

/** Why a family was revoked: stored on the family (REVOKED_REASON) and shown to admins as its word. */
public enum RevocationReason {
    /** A rotated-away refresh token was presented again (any reuse action that revokes). */
    REUSE("reuse"),
    /** An admin revoked it by hand ({@code POST families/{id}/revoke}). */
    ADMIN("admin"),
    /** A refresh token of its client session was revoked at the RFC 7009 revocation endpoint. */
    REVOCATION_ENDPOINT("revocation-endpoint");

    private final String word;

    RevocationReason(String word) {
        this.word = word;
    }

    public String word() {
        return word;
    }

    /** The reason a stored word names; empty for a family that is not revoked or a word of another version. */
    public static Optional<RevocationReason> fromWord(String word) {
        return Arrays.stream(values()).filter(r -> r.word.equals(word)).findFirst();
    }

    public boolean of(Family family) {
        return family.revoked() && word.equals(family.revokedReason());
    }
}
