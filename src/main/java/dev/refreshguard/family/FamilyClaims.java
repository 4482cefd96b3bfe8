package dev.refreshguard.family;

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
