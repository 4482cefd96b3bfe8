package dev.refreshguard.store;

/** Why a family was revoked: stored on the family (REVOKED_REASON) and shown to admins as its word. */
public enum RevocationReason {
    /** A rotated-away refresh token was presented again (any reuse action that revokes). */
    REUSE("reuse"),
    /** An admin revoked it by hand ({@code POST families/{id}/revoke}). */
    ADMIN("admin"),
    /** A refresh token of its client session was revoked at the RFC 7009 revocation endpoint. */
    REVOCATION_ENDPOINT("revocation-endpoint"),
    /** The user followed "This wasn't me" in a reuse letter: every family of the user. */
    WASNT_ME("wasnt-me"),
    /** The user ended one of their own families on their refresh-guard account page. */
    USER("user");

    private final String word;

    RevocationReason(String word) {
        this.word = word;
    }

    public String word() {
        return word;
    }

    public boolean of(Family family) {
        return family.revoked() && word.equals(family.revokedReason());
    }
}
