package dev.refreshguard.policy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import dev.refreshguard.policy.Setting.Source;

/**
 * The effective refresh-guard policy of one client: client attribute, else realm attribute, else default.
 * Immutable; a refused stored value falls back to the default and is kept visible in {@link #settings()}.
 */
public final class Policy {

    private final Map<Attribute, Setting> settings;
    private final boolean rotation;
    private final ReuseAction reuseAction;
    private final int graceSeconds;
    private final int idleSeconds;
    private final int maxSeconds;
    private final int offlineIdleSeconds;
    private final int offlineMaxSeconds;
    private final boolean notifyUser;
    private final String alertEmail;

    private Policy(Map<Attribute, Setting> settings) {
        this.settings = Collections.unmodifiableMap(settings);
        this.rotation = "on".equals(value(Attribute.ROTATION));
        this.reuseAction = ReuseAction.fromWord(value(Attribute.REUSE_ACTION)).orElse(ReuseAction.REVOKE_FAMILY);
        this.graceSeconds = Integer.parseInt(value(Attribute.GRACE_SECONDS));
        this.idleSeconds = Integer.parseInt(value(Attribute.IDLE_SECONDS));
        this.maxSeconds = Integer.parseInt(value(Attribute.MAX_SECONDS));
        this.offlineIdleSeconds = Integer.parseInt(value(Attribute.OFFLINE_IDLE_SECONDS));
        this.offlineMaxSeconds = Integer.parseInt(value(Attribute.OFFLINE_MAX_SECONDS));
        this.notifyUser = "true".equals(value(Attribute.NOTIFY_USER));
        this.alertEmail = value(Attribute.ALERT_EMAIL);
    }

    /** The policy with every attribute at its default. */
    public static Policy defaults() {
        return resolve(Map.of(), Map.of(), ClientKind.CONFIDENTIAL);
    }

    /**
     * Resolves the policy from raw attribute maps. Pure: no Keycloak types, so the rules are unit-testable.
     */
    public static Policy resolve(Map<String, String> clientAttributes, Map<String, String> realmAttributes, ClientKind kind) {
        return resolve(clientAttributes::get, realmAttributes::get, kind);
    }

    /** As {@link #resolve(Map, Map, ClientKind)}, reading attributes through look-up functions. */
    public static Policy resolve(Function<String, String> clientAttribute, Function<String, String> realmAttribute, ClientKind kind) {
        Map<Attribute, Setting> settings = new EnumMap<>(Attribute.class);
        for (Attribute attribute : Attribute.values()) {
            String fromClient = attribute.realmOnly() ? null : present(clientAttribute.apply(attribute.key()));
            String fromRealm = present(realmAttribute.apply(attribute.key()));
            Setting setting;
            if (fromClient != null) {
                setting = judge(attribute, fromClient, Source.CLIENT);
            } else if (fromRealm != null) {
                setting = judge(attribute, fromRealm, Source.REALM);
            } else {
                setting = Setting.accepted(attribute, attribute.defaultValue(), Source.DEFAULT);
            }
            settings.put(attribute, setting);
        }
        refuseMaxBelowIdle(settings, Attribute.IDLE_SECONDS, Attribute.MAX_SECONDS);
        refuseMaxBelowIdle(settings, Attribute.OFFLINE_IDLE_SECONDS, Attribute.OFFLINE_MAX_SECONDS);
        refuseUnsafeRotationOff(settings, kind);
        return new Policy(settings);
    }

    private static Setting judge(Attribute attribute, String raw, Source source) {
        return attribute.accepts(raw)
                ? Setting.accepted(attribute, raw, source)
                : Setting.rejected(attribute, raw, source, attribute.problem(raw));
    }

    private static void refuseMaxBelowIdle(Map<Attribute, Setting> settings, Attribute idle, Attribute max) {
        int idleValue = Integer.parseInt(settings.get(idle).value());
        Setting maxSetting = settings.get(max);
        int maxValue = Integer.parseInt(maxSetting.value());
        if (idleValue > 0 && maxValue > 0 && maxValue < idleValue) {
            settings.put(max, Setting.rejected(max, maxSetting.value(), maxSetting.source(),
                    max.key() + " accepts 0 or a value >= " + idle.key() + " (" + idleValue + "); got '" + maxValue + "'"));
        }
    }

    private static void refuseUnsafeRotationOff(Map<Attribute, Setting> settings, ClientKind kind) {
        Setting rotation = settings.get(Attribute.ROTATION);
        if ("off".equals(rotation.value()) && kind.publicClient() && !kind.dpopBound()) {
            settings.put(Attribute.ROTATION, Setting.rejected(Attribute.ROTATION, "off", rotation.source(),
                    Attribute.ROTATION.key() + " accepts 'off' only for confidential clients or public clients that"
                            + " require DPoP-bound tokens (RFC 9700 section 2.2.2); got 'off' on a public client"));
        }
    }

    private static String present(String raw) {
        if (raw == null) {
            return null;
        }
        String trimmed = raw.trim();
        return trimmed.isEmpty() ? null : trimmed;
    }

    private String value(Attribute attribute) {
        return settings.get(attribute).value();
    }

    public Map<Attribute, Setting> settings() {
        return settings;
    }

    public Setting setting(Attribute attribute) {
        return settings.get(attribute);
    }

    public List<Setting> invalidSettings() {
        List<Setting> invalid = new ArrayList<>();
        for (Setting s : settings.values()) {
            if (!s.valid()) {
                invalid.add(s);
            }
        }
        return invalid;
    }

    /** Messages for the values the client itself sets that the admin API must refuse. */
    public List<String> clientProblems() {
        List<String> problems = new ArrayList<>();
        for (Setting s : settings.values()) {
            if (!s.valid() && s.source() == Source.CLIENT) {
                problems.add(s.problem());
            }
        }
        return problems;
    }

    public boolean rotation() {
        return rotation;
    }

    public ReuseAction reuseAction() {
        return reuseAction;
    }

    public int graceSeconds() {
        return graceSeconds;
    }

    public int idleSeconds(boolean offline) {
        return offline ? offlineIdleSeconds : idleSeconds;
    }

    public int maxSeconds(boolean offline) {
        return offline ? offlineMaxSeconds : maxSeconds;
    }

    public boolean notifyUser() {
        return notifyUser;
    }

    /** The realm's alert address, or null. */
    public String alertEmail() {
        return alertEmail;
    }
}
