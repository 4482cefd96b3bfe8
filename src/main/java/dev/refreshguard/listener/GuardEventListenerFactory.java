package dev.refreshguard.listener;

import java.util.Optional;

import org.keycloak.common.util.Time;
import org.keycloak.events.Details;
import org.keycloak.events.Errors;
import org.keycloak.events.Event;
import org.keycloak.events.EventBuilder;
import org.keycloak.events.EventListenerProvider;
import org.keycloak.events.EventListenerProviderFactory;
import org.keycloak.events.EventType;
import org.keycloak.events.admin.AdminEvent;
import org.keycloak.events.admin.OperationType;
import org.keycloak.events.admin.ResourceType;
import org.keycloak.jose.jws.JWSInput;
import org.keycloak.jose.jws.JWSInputException;
import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.representations.RefreshToken;
import org.keycloak.jose.jwk.JWK;
import org.keycloak.util.JWKSUtils;

import jakarta.ws.rs.core.HttpHeaders;
import org.keycloak.util.TokenUtil;

import dev.refreshguard.GuardProviderFactory;
import dev.refreshguard.family.FamilyClaims;
import dev.refreshguard.policy.Protection;
import dev.refreshguard.policy.ReuseAction;
import dev.refreshguard.reuse.Presenter;
import dev.refreshguard.reuse.ReuseResponse;
import dev.refreshguard.reuse.Revocation;
import dev.refreshguard.reuse.RevocationScope;
import dev.refreshguard.reuse.RevokeFamily;
import dev.refreshguard.spi.RefreshGuard;
import dev.refreshguard.store.Family;
import dev.refreshguard.store.RevocationReason;
import dev.refreshguard.store.RotationOutcome;

/**
 * The per-realm switch: adding the {@code refresh-guard} event listener to a realm turns protection on.
 * Reuse alerts are raised where reuse is detected (they carry facts no event listener could see); the listener
 * itself follows the RFC 7009 revocation endpoint, so that revoking any refresh token revokes its whole family, and
 * logouts, so that the families of an ended session stop being live at once.
 */
public final class GuardEventListenerFactory implements EventListenerProviderFactory, GuardProviderFactory<EventListenerProvider> {

    @Override
    public EventListenerProvider create(KeycloakSession session) {
        return new Listener(session);
    }

    private static final class Listener implements EventListenerProvider {

        private final KeycloakSession session;

        Listener(KeycloakSession session) {
            this.session = session;
        }

        @Override
        public void onEvent(Event event) {
            if (event.getType() == EventType.REVOKE_GRANT && event.getError() == null && event.getSessionId() != null
                    && event.getDetails() != null && event.getDetails().containsKey(Details.REFRESH_TOKEN_ID)) {
                revokeFamiliesOfRevokedGrant(event);
            } else if (event.getType() == EventType.REFRESH_TOKEN_ERROR && Errors.INVALID_TOKEN.equals(event.getError())) {
                String proofKey = proofKeyThumbprint();
                if (proofKey != null) {
                    otherDpopKey(event, proofKey);
                }
            } else if (event.getType() == EventType.LOGOUT && event.getError() == null && event.getSessionId() != null) {
                RefreshGuard.of(session).store().revocations().endOnlineSession(event.getRealmId(), event.getSessionId(), Time.currentTime());
            }
        }

        /**
         * Keycloak ended the client's session for the revoked refresh token; its families (and their children) go too —
         * those of the token's kind only: revoking an online token leaves the same login's offline families alone, as
         * Keycloak leaves the offline session. A rotated-away token presented here is reuse: the alert is raised.
         */
        private void revokeFamiliesOfRevokedGrant(Event event) {
            RealmModel realm = session.realms().getRealm(event.getRealmId());
            ClientModel client = realm == null ? null : session.clients().getClientByClientId(realm, event.getClientId());
            if (client == null) {
                return;
            }
            RefreshGuard guard = RefreshGuard.of(session);
            RefreshToken presented = presentedRefreshToken();
            boolean offline = presented != null ? TokenUtil.TOKEN_TYPE_OFFLINE.equals(presented.getType())
                    : TokenUtil.TOKEN_TYPE_OFFLINE.equals(event.getDetails().get(Details.REFRESH_TOKEN_TYPE));
            long now = Time.currentTime();
            Optional<FamilyClaims> claims = presented == null ? Optional.empty() : FamilyClaims.of(presented);
            RotationOutcome outcome = claims.isEmpty() || Protection.of(realm) != Protection.ON ? null
                    : guard.store().ledger().current(claims.get().familyId(), claims.get().generation(), now);

            int families = 0;
            int sessions = 0;
            for (Family family : guard.store().queries().liveOfClientSession(realm.getId(), event.getSessionId(), client.getId())) {
                if (family.offline() == offline) {
                    Revocation.Result r = new RevokeFamily().apply(RevocationScope.of(session, realm, family, RevocationReason.REVOCATION_ENDPOINT));
                    families += r.families();
                    sessions += r.sessions();
                }
            }
            if (outcome instanceof RotationOutcome.Reused reused) {
                EventBuilder alert = new EventBuilder(realm, session, session.getContext().getConnection())
                        .event(EventType.REFRESH_TOKEN).client(client).user(event.getUserId()).session(event.getSessionId())
                        .detail(Details.REASON, "refresh token reuse at the revocation endpoint");
                String userAgent = session.getContext().getRequestHeaders() == null ? null
                        : session.getContext().getRequestHeaders().getHeaderString("User-Agent");
                new ReuseResponse(session, realm, guard.policy(client), new Presenter(client.getClientId(), event.getIpAddress(), userAgent,
                        null, presented == null ? null : presented.getSessionId()))
                        .alertAtRevocation(reused, alert, new Revocation.Result(sessions, families));
            }
        }

        /**
         * Issue 26, point 2: Keycloak refuses a DPoP-bound refresh token presented with a proof of another key (in
         * {@code TokenManager.verifyRefreshToken}, before any refresh-token provider runs) and raises only this
         * {@code invalid_token} event. Whoever holds the token but not its key is not its owner: the reuse alert is
         * raised with verdict {@code likely-theft}, and the family's reuse action applies. Only a token whose signature
         * verifies (so no one can aim this at a family by forging claims), of this client, bound to a key.
         */
        private void otherDpopKey(Event event, String proofKey) {
            RealmModel realm = session.getContext().getRealm();
            if (realm == null || Protection.of(realm) != Protection.ON) {
                return;
            }
            String jwt = session.getContext().getHttpRequest().getDecodedFormParameters().getFirst("refresh_token");
            RefreshToken token = jwt == null || jwt.length() > 16_384 ? null : session.tokens().decode(jwt, RefreshToken.class);
            if (token == null || token.getConfirmation() == null || token.getConfirmation().getKeyThumbprint() == null
                    || proofKey.equals(token.getConfirmation().getKeyThumbprint()) || !token.isActive()) {
                return;
            }
            ClientModel client = session.clients().getClientByClientId(realm, event.getClientId());
            Optional<FamilyClaims> claims = FamilyClaims.of(token);
            if (client == null || !client.getClientId().equals(token.getIssuedFor()) || claims.isEmpty()) {
                return;
            }
            RefreshGuard guard = RefreshGuard.of(session);
            long now = Time.currentTime();
            Optional<RotationOutcome.Reused> reused = guard.store().ledger()
                    .presentedWithOtherKey(claims.get().familyId(), claims.get().generation(), now);
            if (reused.isEmpty()) {
                return;
            }
            String userAgent = session.getContext().getRequestHeaders() == null ? null
                    : session.getContext().getRequestHeaders().getHeaderString("User-Agent");
            ReuseResponse response = new ReuseResponse(session, realm, guard.policy(client),
                    new Presenter(client.getClientId(), event.getIpAddress(), userAgent, proofKey, token.getSessionId()));
            ReuseResponse.Judgement judged = response.judge(reused.get(), true);
            EventBuilder alert = new EventBuilder(realm, session, session.getContext().getConnection())
                    .event(EventType.REFRESH_TOKEN).client(client).user(token.getSubject()).session(token.getSessionId());
            if (judged.action() == ReuseAction.ALERT_ONLY) {
                // Keycloak refuses the request anyway: alert-only only means that nothing is revoked.
                response.alertOnly(reused.get(), judged, alert);
            } else {
                response.revokeAndAlert(reused.get(), judged, alert, now);
            }
        }

        /**
         * The thumbprint of the key in the request's DPoP proof. Keycloak sends error events from a session of its own
         * (same request context, none of the request session's attributes), so the proof is read from the header; its
         * signature was verified by Keycloak before the grant ran, or the grant would have failed with another error.
         */
        private String proofKeyThumbprint() {
            HttpHeaders headers = session.getContext().getRequestHeaders();
            String proof = headers == null ? null : headers.getHeaderString("DPoP");
            if (proof == null || proof.length() > 8192) {
                return null;
            }
            try {
                JWK key = new JWSInput(proof).getHeader().getKey();
                return key == null ? null : JWKSUtils.computeThumbprint(key);
            } catch (JWSInputException | RuntimeException e) {
                return null;
            }
        }

        /** The token the revocation request carried: Keycloak verified it before it raised this success event. */
        private RefreshToken presentedRefreshToken() {
            try {
                String token = session.getContext().getHttpRequest().getDecodedFormParameters().getFirst("token");
                return token == null ? null : new JWSInput(token).readJsonContent(RefreshToken.class);
            } catch (JWSInputException | RuntimeException e) {
                return null;
            }
        }

        /**
         * Keycloak hands an admin event to the listeners the realm had when the request began: a realm update that
         * removed this very listener still reaches it. That is the one moment protection is switched off (only
         * {@code manage-events} is needed), so it is made loud here.
         */
        @Override
        public void onEvent(AdminEvent event, boolean includeRepresentation) {
            if (event.getOperationType() != OperationType.UPDATE || event.getResourceType() != ResourceType.REALM
                    || event.getError() != null) {
                return;
            }
            RealmModel realm = session.realms().getRealm(event.getRealmId());
            if (realm == null || Protection.of(realm) == Protection.ON) {
                return;
            }
            if (Protection.unremembered(realm)) {
                // Switched off before its first token's remember landed (written off the request thread): remember it
                // now, or it would count as never protected, and tokens rotated away while off would live again.
                Protection.remember(session.getKeycloakSessionFactory(), realm.getId(), Time.currentTime());
            }
            RefreshGuard.of(session).alerts().protectionOff(session, realm, event, adminUsername(event));
        }

        private String adminUsername(AdminEvent event) {
            if (event.getAuthDetails() == null || event.getAuthDetails().getUserId() == null) {
                return null;
            }
            RealmModel adminRealm = session.realms().getRealm(event.getAuthDetails().getRealmId());
            UserModel admin = adminRealm == null ? null : session.users().getUserById(adminRealm, event.getAuthDetails().getUserId());
            return admin == null ? null : admin.getUsername();
        }

        @Override
        public void close() {
        }
    }
}
