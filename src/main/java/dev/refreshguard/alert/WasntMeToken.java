package dev.refreshguard.alert;

import java.net.URI;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonProperty;

import jakarta.ws.rs.core.UriBuilder;

import org.keycloak.authentication.actiontoken.DefaultActionToken;
import org.keycloak.common.util.Time;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.services.Urls;

import dev.refreshguard.Jar;

/**
 * The "This wasn't me" link of a reuse letter: a Keycloak action token, signed with the realm's keys, bound to the
 * user and the family of the alert, short-lived and single-use (the handler in package {@code account} marks it used).
 * Its type is the JAR's provider id ({@code refresh-guard}): Keycloak finds the handler by the token's type.
 */
public final class WasntMeToken extends DefaultActionToken {

    public static final String TYPE = Jar.PROVIDER_ID;

    @JsonProperty("rg_fid")
    private String familyId;

    /** For Jackson, reading a presented token. */
    private WasntMeToken() {
    }

    private WasntMeToken(String userId, int expiresAt, String familyId) {
        super(userId, TYPE, expiresAt, UUID.randomUUID());
        this.familyId = familyId;
    }

    /** The family the alert was about; the link ends all the user's sessions, this one included. */
    public String familyId() {
        return familyId;
    }

    /**
     * The signed link for the user's letter. {@code baseUri} is the server's front-end base URI as the request that
     * raised the alert saw it (the letter is composed off the request thread, where there is none); the realm must be
     * the session's context realm (its keys sign the token).
     */
    static String link(KeycloakSession session, RealmModel realm, URI baseUri, String userId, String familyId, int seconds) {
        WasntMeToken token = new WasntMeToken(userId, Time.currentTime() + seconds, familyId);
        // As DefaultActionToken.serialize does with a request's UriInfo: issuer and audience are the realm's URL.
        String issuer = Urls.realmIssuer(baseUri, realm.getName());
        token.id(UUID.randomUUID().toString());
        token.issuedNow();
        token.issuer(issuer);
        token.audience(issuer);
        String encoded = session.tokens().encode(token);
        // Keycloak's action-token endpoint; no client, tab or client data: the handler needs none.
        return UriBuilder.fromUri(baseUri).path("realms").path(realm.getName()).path("login-actions").path("action-token")
                .queryParam("key", encoded).build().toString();
    }
}
