package dev.refreshguard.family;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

import org.keycloak.representations.RefreshToken;

/**
 * The family facts a refresh token carries. The token is signed by Keycloak, so these claims are as trustworthy
 * as the token itself, and the hot path needs no look-up to know them.
 */
public record FamilyClaims(String familyId, int generation, long startedAt) {

    static final String FAMILY_ID = "rg_fid";
    static final String GENERATION = "rg_gen";
    static final String STARTED_AT = "rg_fst";
    static final String ADOPTED_PREFIX = "a-";

    /** The claims of a token minted by refresh-guard; empty for tokens minted before the realm was protected. */
    public static Optional<FamilyClaims> of(RefreshToken token) {
        Map<String, Object> claims = token.getOtherClaims();
        Object id = claims.get(FAMILY_ID);
        Object generation = claims.get(GENERATION);
        Object started = claims.get(STARTED_AT);
        if (!(id instanceof String familyId) || !(generation instanceof Number gen) || !(started instanceof Number start)) {
            return Optional.empty();
        }
        return Optional.of(new FamilyClaims(familyId, gen.intValue(), start.longValue()));
    }

    /**
     * The family a token issued before the realm was protected is adopted into: generation 0 of a family whose
     * id is derived from the realm and the token's own id, so every presentation of that token, on every node and
     * after restarts, names the same family. The prefix keeps it apart from Keycloak's UUIDs; 36 characters fit
     * the ID column.
     *
     * @param startedAt when the family counts as started (the client session's start: the original grant)
     */
    public static FamilyClaims adopted(String realmId, String tokenId, long startedAt) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest((realmId + '\n' + tokenId).getBytes(StandardCharsets.UTF_8));
            String id = ADOPTED_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
            return new FamilyClaims(id.substring(0, 36), 0, startedAt);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    /** The claims of the token that replaces this one: the next generation when rotating, the same otherwise. */
    public FamilyClaims successor(boolean rotating) {
        return rotating ? new FamilyClaims(familyId, generation + 1, startedAt) : this;
    }

    public void writeTo(RefreshToken token) {
        token.getOtherClaims().put(FAMILY_ID, familyId);
        token.getOtherClaims().put(GENERATION, generation);
        token.getOtherClaims().put(STARTED_AT, startedAt);
    }
}
