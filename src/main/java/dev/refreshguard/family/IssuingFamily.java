package dev.refreshguard.family;

import java.util.Optional;

import org.keycloak.representations.AccessToken;

/**
 * The family an access token was issued from, as a claim of the access token itself ({@code rg_fid}, the same
 * name as the refresh token's): a token exchange finds the subject token's family by it, exactly, however many
 * families the subject client has in the user session. The token is signed by Keycloak, so the claim is as
 * trustworthy as the token.
 */
public final class IssuingFamily {

    private IssuingFamily() {
    }

    /** Marks an access token as issued alongside a refresh token of the family; called before the token is encoded. */
    public static void stamp(AccessToken accessToken, FamilyClaims family) {
        if (accessToken != null) {
            accessToken.getOtherClaims().put(FamilyClaims.FAMILY_ID, family.familyId());
        }
    }

    /** The family id an access token carries; empty for one issued without a refresh token or before this version. */
    public static Optional<String> of(AccessToken accessToken) {
        return accessToken.getOtherClaims().get(FamilyClaims.FAMILY_ID) instanceof String id && !id.isEmpty()
                ? Optional.of(id)
                : Optional.empty();
    }
}
