package dev.refreshguard.alert;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.jboss.logging.Logger;
import org.keycloak.common.util.Time;
import org.keycloak.events.EventBuilder;
import org.keycloak.events.EventListenerProvider;
import org.keycloak.events.admin.AdminEvent;
import org.keycloak.events.admin.AuthDetails;
import org.keycloak.events.admin.OperationType;
import org.keycloak.models.utils.KeycloakModelUtils;
import org.keycloak.events.EventStoreProvider;
import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;

import dev.refreshguard.metrics.GuardMetrics;
import dev.refreshguard.policy.KeycloakRotation;
import dev.refreshguard.policy.Policy;

/**
 * Where a reuse alert goes: the Keycloak event (to every listener and the event store), one JSON line at WARN
 * on {@code dev.refreshguard.alert}, the reuse counter, and email after commit.
 * One instance per server, held by the {@code refresh-guard} SPI's factory.
 */
public final class AlertChannels {

    public static final String LOG_CATEGORY = "dev.refreshguard.alert";
    /** Bounds the clients remembered as reported (a realm import of many misconfigured clients, say). */
    private static final int MAX_ROTATION_REPORTS = 10_000;

    private final Logger alertLog = Logger.getLogger(LOG_CATEGORY);
    private final ObjectMapper json = new ObjectMapper();
    private final AlertMail mail;
    private final GuardMetrics metrics;
    /** Clients whose rotation Keycloak's configuration overrides, already reported since this server started. */
    private final Set<String> rotationReported = ConcurrentHashMap.newKeySet();

    public AlertChannels(AlertMail mail, GuardMetrics metrics) {
        this.mail = mail;
        this.metrics = metrics;
    }

    /**
     * Raises a reuse alert on every channel. The event goes through {@code event}, which already names the realm,
     * client, user, session and presenter address of the request; {@code policy} says who gets an email.
     */
    public void reuse(KeycloakSession session, EventBuilder event, ReuseAlert alert, Policy policy) {
        // Every reuse is counted; an incident's later replays speak only at powers of two, and write to nobody.
        metrics.reuse(alert.realmName(), alert.clientId(), alert.action(), alert.verdict().word());
        if (alert.incident().opened()) {
            mail.sendAfterCommit(session, alert, policy);
        }
        if (!alert.incident().reported()) {
            return;
        }
        Evidence evidence = alert.evidence();
        event.detail(AlertVocabulary.FAMILY_ID, alert.familyId())
                .detail(AlertVocabulary.GENERATION, Integer.toString(alert.generation()))
                .detail(AlertVocabulary.LATEST_GENERATION, Integer.toString(alert.latestGeneration()))
                .detail(AlertVocabulary.SECONDS_SINCE_ROTATION, alert.secondsSinceRotationText())
                .detail(AlertVocabulary.FIRST_USE_IP, alert.firstUseIpText())
                .detail(AlertVocabulary.ACTION, alert.action())
                .detail(AlertVocabulary.SESSIONS_REVOKED, Integer.toString(alert.sessionsRevoked()))
                .detail(AlertVocabulary.VERDICT, alert.verdict().word())
                .detail(AlertVocabulary.SIGNAL, alert.signal())
                .detail(AlertVocabulary.SAME_IP, Evidence.text(evidence.sameIp()))
                .detail(AlertVocabulary.SAME_USER_AGENT, Evidence.text(evidence.sameUserAgent()))
                .detail(AlertVocabulary.SAME_DPOP_KEY, Evidence.text(evidence.sameDpopKey()))
                .detail(AlertVocabulary.SAME_SESSION, Evidence.text(evidence.sameSession()))
                .detail(AlertVocabulary.INCIDENT_COUNT, Integer.toString(alert.incident().count()))
                .error(AlertVocabulary.ERROR_REUSED);
        storeEvenIfTypeNotSaved(session, event);
        alertLog.warn(toJson(alert));
    }

    /**
     * The user followed "This wasn't me" in a reuse letter and confirmed: the event (stored even where its type is not
     * picked for saving, like a reuse alert) and one WARN JSON line, so the security team sees it beside the alert.
     */
    public void wasntMe(KeycloakSession session, EventBuilder event, RealmModel realm, Map<String, String> details) {
        details.forEach(event::detail);
        event.success();
        // success() sent the event to the listeners; the store gets it here when its type is not saved.
        storeEvenIfTypeNotSaved(session, event);
        Map<String, Object> line = new LinkedHashMap<>();
        line.put(AlertVocabulary.JSON_ALERT, AlertVocabulary.WASNT_ME);
        line.put(AlertVocabulary.JSON_TIMESTAMP, Instant.now().toString());
        line.put(AlertVocabulary.JSON_REALM, realm.getName());
        line.put(AlertVocabulary.USER_ID, event.getEvent().getUserId());
        line.put(AlertVocabulary.JSON_IP_ADDRESS, event.getEvent().getIpAddress());
        line.putAll(details);
        try {
            alertLog.warn(json.writeValueAsString(line));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Keycloak saves REFRESH_TOKEN_ERROR only when an admin picked it; a reuse alert is kept in the event store of
     * every realm that saves events at all, so the security team finds it in the admin console.
     */
    private static void storeEvenIfTypeNotSaved(KeycloakSession session, EventBuilder event) {
        RealmModel realm = session.getContext().getRealm();
        if (realm == null || !realm.isEventsEnabled()) {
            return;
        }
        String type = event.getEvent().getType().name();
        if (realm.getEnabledEventTypesStream().noneMatch(type::equals)) {
            EventStoreProvider store = session.getProvider(EventStoreProvider.class);
            if (store != null) {
                store.onEvent(event.getEvent());
            }
        }
    }

    /**
     * A realm's protection was switched off (its {@code refresh-guard} listener removed): one WARN JSON line on the alert
     * category and one admin event with details, stored (when the realm saves admin events) and sent to the listeners
     * the realm keeps, so that turning the guard off never goes unnoticed.
     */
    public void protectionOff(KeycloakSession session, RealmModel realm, AdminEvent cause, String adminUsername) {
        AuthDetails by = cause.getAuthDetails() == null ? new AuthDetails() : cause.getAuthDetails();
        Map<String, String> details = new LinkedHashMap<>();
        details.put(AlertVocabulary.JSON_REALM, realm.getName());
        details.put("protected", "false");
        details.put("listener_removed", AlertVocabulary.LISTENER);
        details.put("admin_realm", String.valueOf(by.getRealmName() != null ? by.getRealmName() : by.getRealmId()));
        details.put("admin_user_id", String.valueOf(by.getUserId()));
        details.put("admin_username", String.valueOf(adminUsername));
        details.put("admin_client_id", String.valueOf(by.getClientId()));

        Map<String, Object> line = new LinkedHashMap<>();
        line.put(AlertVocabulary.JSON_ALERT, AlertVocabulary.PROTECTION_OFF);
        line.put(AlertVocabulary.JSON_TIMESTAMP, Instant.now().toString());
        line.putAll(details);
        line.put(AlertVocabulary.JSON_IP_ADDRESS, by.getIpAddress());
        try {
            alertLog.warn(json.writeValueAsString(line));
        } catch (JsonProcessingException e) {
            alertLog.warnf("{\"alert\":\"%s\",\"realm\":\"%s\"}", AlertVocabulary.PROTECTION_OFF, realm.getName());
        }

        AdminEvent event = new AdminEvent();
        event.setId(KeycloakModelUtils.generateId());
        event.setTime(Time.currentTimeMillis());
        event.setRealmId(realm.getId());
        event.setRealmName(realm.getName());
        event.setAuthDetails(by);
        event.setOperationType(OperationType.ACTION);
        event.setResourceTypeAsString(AlertVocabulary.PROTECTION_RESOURCE);
        event.setResourcePath(cause.getResourcePath());
        event.setDetails(details);
        if (realm.isAdminEventsEnabled()) {
            EventStoreProvider store = session.getProvider(EventStoreProvider.class);
            if (store != null) {
                store.onEvent(event, false);
            }
        }
        realm.getEventsListenersStream().forEach(id -> {
            EventListenerProvider listener = session.getProvider(EventListenerProvider.class, id);
            if (listener != null) {
                listener.onEvent(new AdminEvent(event), false);
            }
        });
    }

    String toJson(ReuseAlert a) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put(AlertVocabulary.JSON_ALERT, AlertVocabulary.ERROR_REUSED);
        line.put(AlertVocabulary.JSON_TIMESTAMP, Instant.ofEpochMilli(a.time()).toString());
        line.put(AlertVocabulary.JSON_REALM, a.realmName());
        line.put(AlertVocabulary.CLIENT_ID, a.clientId());
        line.put(AlertVocabulary.USER_ID, a.userId());
        line.put(AlertVocabulary.JSON_SESSION_ID, a.sessionId());
        line.put(AlertVocabulary.JSON_IP_ADDRESS, a.presenterIp());
        line.put(AlertVocabulary.FIRST_USE_IP, a.firstUseIp());
        line.put(AlertVocabulary.JSON_USER_AGENT, a.userAgent());
        line.put(AlertVocabulary.FAMILY_ID, a.familyId());
        line.put(AlertVocabulary.GENERATION, a.generation());
        line.put(AlertVocabulary.LATEST_GENERATION, a.latestGeneration());
        line.put(AlertVocabulary.SECONDS_SINCE_ROTATION, a.secondsSinceRotation() < 0 ? null : a.secondsSinceRotation());
        line.put(AlertVocabulary.ACTION, a.action());
        line.put(AlertVocabulary.SESSIONS_REVOKED, a.sessionsRevoked());
        line.put(AlertVocabulary.VERDICT, a.verdict().word());
        line.put(AlertVocabulary.SIGNAL, a.signal());
        line.put(AlertVocabulary.SAME_IP, a.evidence().sameIp());
        line.put(AlertVocabulary.SAME_USER_AGENT, a.evidence().sameUserAgent());
        line.put(AlertVocabulary.SAME_DPOP_KEY, a.evidence().sameDpopKey());
        line.put(AlertVocabulary.SAME_SESSION, a.evidence().sameSession());
        line.put(AlertVocabulary.INCIDENT_COUNT, a.incident().count());
        try {
            return json.writeValueAsString(line);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A family of a client whose rotation Keycloak's own configuration overrides was refreshed ({@code
     * use.refresh.tokens=false}, a client policy that drops the new refresh token): one JSON line on the alert category
     * per client and server start — never per refresh — with the effective value and the settings that cause it,
     * exactly as the policy endpoint's {@code rotation} block. WARN when rotation is effectively off; INFO when
     * refresh-guard keeps rotating a public client against the setting (RFC 9700 section 2.2.2).
     */
    public void rotationOverridden(KeycloakSession session, ClientModel client, Policy policy) {
        RealmModel realm = client.getRealm();
        if (rotationReported.size() >= MAX_ROTATION_REPORTS || !rotationReported.add(realm.getId() + '/' + client.getId())) {
            return;
        }
        Map<String, Object> rotation = KeycloakRotation.describe(session, realm, client, policy);
        Map<String, Object> line = new LinkedHashMap<>();
        line.put(AlertVocabulary.JSON_ALERT, AlertVocabulary.ROTATION_OVERRIDDEN);
        line.put(AlertVocabulary.JSON_TIMESTAMP, Instant.now().toString());
        line.put(AlertVocabulary.JSON_REALM, realm.getName());
        line.put(AlertVocabulary.CLIENT_ID, client.getClientId());
        line.put(AlertVocabulary.JSON_ROTATION, rotation);
        String text;
        try {
            text = json.writeValueAsString(line);
        } catch (JsonProcessingException e) {
            text = String.format("{\"alert\":\"%s\",\"realm\":\"%s\"}", AlertVocabulary.ROTATION_OVERRIDDEN, realm.getName());
        }
        if ("off".equals(rotation.get("effective"))) {
            alertLog.warn(text);
        } else {
            alertLog.info(text);
        }
    }
}
