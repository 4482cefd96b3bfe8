package dev.refreshguard.family;

import org.keycloak.models.KeycloakSession;

/**
 * The parent family of the refresh token a token exchange is about to mint: set by the exchange for the duration of
 * Keycloak's own exchange, read by the refresh provider when it starts the child family.
 */
public final class ParentFamily {

    private static final String ATTRIBUTE = "dev.refreshguard.parent-family";

    private ParentFamily() {
    }

    public static void set(KeycloakSession session, String familyId) {
        session.setAttribute(ATTRIBUTE, familyId);
    }

    public static void clear(KeycloakSession session) {
        session.removeAttribute(ATTRIBUTE);
    }

    /** The parent family id, or null when the token being issued starts a family of its own. */
    public static String of(KeycloakSession session) {
        return session.getAttribute(ATTRIBUTE, String.class);
    }
}
