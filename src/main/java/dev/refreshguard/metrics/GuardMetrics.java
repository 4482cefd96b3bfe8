package dev.refreshguard.metrics;

import java.util.function.Supplier;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;

/**
 * Every refresh-guard counter, on Micrometer's global registry (Keycloak's {@code /metrics} when metrics are enabled).
 * One instance per server. Reuse alerts are counted here too, but so are things that are no alert: grace replays,
 * revocations of every kind, purged families.
 */
public final class GuardMetrics {

    private final MeterRegistry registry = Metrics.globalRegistry;

    /** Every reuse, with the action taken and the verdict (likely-retry, likely-theft, inconclusive). */
    public void reuse(String realmName, String clientId, String action, String verdict) {
        counter(Meter.REUSE, "realm", realmName, "client", clientId, "action", action, "verdict", verdict).increment();
    }

    /** A reuse alert letter not sent because the mail queue was full. */
    public void alertMailDropped(String realmName) {
        counter(Meter.ALERT_MAIL_DROPPED, "realm", realmName).increment();
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

    /**
     * Gauge {@code refresh_guard_realms_protected}: how many realms have the {@code refresh-guard} listener, read at
     * each scrape, so that switching a realm off shows as a drop on every node.
     */
    public void realmsProtected(Supplier<Number> count) {
        Gauge.builder("refresh.guard.realms.protected", count)
                .description("Realms protected by refresh-guard now (the refresh-guard event listener is on)")
                .strongReference(true)
                .register(registry);
    }

    /** A request answered 503 because the ledger could not be written; {@code reason}: lock-timeout, database-unreachable. */
    public void unavailable(String realmName, String reason) {
        counter(Meter.UNAVAILABLE, "realm", realmName, "reason", reason).increment();
    }

    /** Every refresh-guard counter, with the description Prometheus shows as {@code # HELP}. */
    private enum Meter {
        REUSE("refresh.guard.reuse", "Refresh token reuses detected (every replay, also those an incident folds into one alert),"
                + " by the reuse action taken and the verdict"),
        ALERT_MAIL_DROPPED("refresh.guard.alert.mail.dropped",
                "Reuse alerts whose letters were not sent because the alert mail queue was full"),
        GRACE_REPLAY("refresh.guard.grace.replay", "Refreshes answered with the same successor token inside the grace window"),
        FAMILY_REVOKED("refresh.guard.family.revoked",
                "Refresh token families revoked (reuse, revocation endpoint, admin, session-wide actions), by the family's client"),
        FAMILIES_PURGED("refresh.guard.families.purged", "Refresh token families deleted by the purge task after their retention"),
        UNAVAILABLE("refresh.guard.unavailable",
                "Requests answered 503 because the ledger could not be written: family locked past lock-timeout, or database unreachable");

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
}
