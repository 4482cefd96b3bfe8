package dev.refreshguard.alert;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;

import org.jboss.logging.Logger;
import org.keycloak.events.EventBuilder;
import org.keycloak.events.EventStoreProvider;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;

import dev.refreshguard.policy.Policy;

/**
 * Where a reuse alert goes: the Keycloak event (to every listener and the event store), one JSON line at WARN
 * on {@code dev.refreshguard.alert}, Micrometer counters, and email after commit.
 * One instance per server, created by the refresh provider's factory.
 */
public final class AlertChannels {

    public static final String LOG_CATEGORY = "dev.refreshguard.alert";

    private final Logger alertLog = Logger.getLogger(LOG_CATEGORY);
    private final ObjectMapper json = new ObjectMapper();
    private final MeterRegistry registry = Metrics.globalRegistry;
    private final AlertMail mail;

    public AlertChannels(AlertMail mail) {
        this.mail = mail;
    }

    /**
     * Raises a reuse alert on every channel. The event goes through {@code event}, which already names the realm,
     * client, user, session and presenter address of the request; {@code policy} says who gets an email.
     */
    public void reuse(KeycloakSession session, EventBuilder event, ReuseAlert alert, Policy policy) {
        event.detail("family_id", alert.familyId())
                .detail("generation", Integer.toString(alert.generation()))
                .detail("latest_generation", Integer.toString(alert.latestGeneration()))
                .detail("seconds_since_rotation", alert.secondsSinceRotationText())
                .detail("first_use_ip", alert.firstUseIpText())
                .detail("action", alert.action())
                .detail("sessions_revoked", Integer.toString(alert.sessionsRevoked()))
                .error(ReuseAlert.EVENT_ERROR);
        storeEvenIfTypeNotSaved(session, event);
        alertLog.warn(toJson(alert));
        counter(Meter.REUSE, "realm", alert.realmName(), "client", alert.clientId(), "action", alert.action()).increment();
        mail.sendAfterCommit(session, alert, policy);
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

    public void graceReplay(String realmName, String clientId) {
        counter(Meter.GRACE_REPLAY, "realm", realmName, "client", clientId).increment();
    }

    public void familiesRevoked(String realmName, String clientId, int count) {
        if (count > 0) {
            counter(Meter.FAMILY_REVOKED, "realm", realmName, "client", clientId).increment(count);
        }
    }

    public void familiesPurged(String realmName, int count) {
        if (count > 0) {
            counter(Meter.FAMILIES_PURGED, "realm", realmName).increment(count);
        }
    }

    /** Every refresh-guard counter, with the description Prometheus shows as {@code # HELP}. */
    private enum Meter {
        REUSE("refresh.guard.reuse", "Refresh token reuses detected (one per alert), by the reuse action taken"),
        GRACE_REPLAY("refresh.guard.grace.replay", "Refreshes answered with the same successor token inside the grace window"),
        FAMILY_REVOKED("refresh.guard.family.revoked", "Refresh token families revoked (reuse, revocation endpoint, admin)"),
        FAMILIES_PURGED("refresh.guard.families.purged", "Refresh token families deleted by the purge task after their retention");

        final String name;
        final String description;

        Meter(String name, String description) {
            this.name = name;
            this.description = description;
        }
    }

    /** The one place counters are made: the registry returns the existing counter for the same name and tags. */
    private Counter counter(Meter meter, String... tags) {
        return Counter.builder(meter.name).description(meter.description).tags(tags).register(registry);
    }

    String toJson(ReuseAlert a) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("alert", ReuseAlert.EVENT_ERROR);
        line.put("timestamp", Instant.ofEpochMilli(a.time()).toString());
        line.put("realm", a.realmName());
        line.put("client_id", a.clientId());
        line.put("user_id", a.userId());
        line.put("session_id", a.sessionId());
        line.put("ip_address", a.presenterIp());
        line.put("first_use_ip", a.firstUseIp());
        line.put("user_agent", a.userAgent());
        line.put("family_id", a.familyId());
        line.put("generation", a.generation());
        line.put("latest_generation", a.latestGeneration());
        line.put("seconds_since_rotation", a.secondsSinceRotation() < 0 ? null : a.secondsSinceRotation());
        line.put("action", a.action());
        line.put("sessions_revoked", a.sessionsRevoked());
        try {
            return json.writeValueAsString(line);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
