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
    private final List<String> clientProblems;
    private final boolean rotation;
    private final ReuseAction reuseAction;
    private final ReuseAction likelyRetryAction;
    private final int retrySeconds;
    private final int graceSeconds;
    private final int idleSeconds;
    private final int maxSeconds;
    private final int offlineIdleSeconds;
    private final int offlineMaxSeconds;
    private final boolean notifyUser;
    private final String alertEmail;
    private final int wasntMeSeconds;
    private final boolean wasntMeUpdatePassword;

    private Policy(Map<Attribute, Setting> settings, List<String> clientProblems) {
        this.settings = Collections.unmodifiableMap(settings);
        this.clientProblems = List.copyOf(clientProblems);
        this.rotation = "on".equals(value(Attribute.ROTATION));
        this.reuseAction = ReuseAction.fromWord(value(Attribute.REUSE_ACTION)).orElse(ReuseAction.REVOKE_FAMILY);
        String likelyRetry = value(Attribute.REUSE_ACTION_LIKELY_RETRY);
        this.likelyRetryAction = likelyRetry == null ? reuseAction
                : ReuseAction.fromLikelyRetryWord(likelyRetry).orElse(reuseAction);
        this.retrySeconds = Integer.parseInt(value(Attribute.REUSE_RETRY_SECONDS));
        this.graceSeconds = Integer.parseInt(value(Attribute.GRACE_SECONDS));
        this.idleSeconds = Integer.parseInt(value(Attribute.IDLE_SECONDS));
        this.maxSeconds = Integer.parseInt(value(Attribute.MAX_SECONDS));
        this.offlineIdleSeconds = Integer.parseInt(value(Attribute.OFFLINE_IDLE_SECONDS));
        this.offlineMaxSeconds = Integer.parseInt(value(Attribute.OFFLINE_MAX_SECONDS));
        this.notifyUser = "true".equals(value(Attribute.NOTIFY_USER));
        this.alertEmail = value(Attribute.ALERT_EMAIL);
        this.wasntMeSeconds = Integer.parseInt(value(Attribute.WASNT_ME_SECONDS));
        this.wasntMeUpdatePassword = "true".equals(value(Attribute.WASNT_ME_UPDATE_PASSWORD));
    }

    /** The policy with every attribute at its default. */
    public static Policy defaults() {
        return resolve(Map.of(), Map.of(), ClientKind.CONFIDENTIAL);
    }

    /** The realm's own settings (realm attribute, else default): what needs no client, such as the "This wasn't me" link. */
    public static Policy ofRealm(Function<String, String> realmAttribute) {
        return resolve(key -> null, realmAttribute, ClientKind.CONFIDENTIAL);
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
        List<String> clientProblems = new ArrayList<>();
        for (Attribute attribute : Attribute.values()) {
            String fromClient = present(clientAttribute.apply(attribute.key()));
            if (attribute.realmOnly() && fromClient != null) {
                // Ignored where it is set; the admin API refuses it on a client.
                clientProblems.add(attribute.realmOnlyProblem());
                fromClient = null;
            }
            String fromRealm = present(realmAttribute.apply(attribute.key()));
            Setting setting;
            if (fromClient != null) {
                setting = judge(attribute, fromClient, Source.CLIENT);
            } else if (fromRealm != null) {
                setting = judge(attribute, fromRealm, Source.REALM);
            } else {
                setting = Setting.accepted(attribute, attribute.defaultValue(), Source.DEFAULT);
            }
            if (!setting.valid() && setting.source() == Source.CLIENT) {
                clientProblems.add(setting.problem());
            }
            settings.put(attribute, setting);
        }
        refuseMaxBelowIdle(settings, Attribute.IDLE_SECONDS, Attribute.MAX_SECONDS, clientProblems);
        refuseMaxBelowIdle(settings, Attribute.OFFLINE_IDLE_SECONDS, Attribute.OFFLINE_MAX_SECONDS, clientProblems);
        refuseUnsafeRotationOff(settings, kind, clientProblems);
        return new Policy(settings, clientProblems);
    }

    /**
     * Everything the admin API must refuse in a client's attributes: refused values and combinations the client takes
     * part in, realm-only attributes, and unknown {@code refresh.guard.*} keys (typos would otherwise be silently ignored).
     */
    public static List<String> problemsOfClientAttributes(Map<String, String> clientAttributes, Function<String, String> realmAttribute,
                                              ClientKind kind) {
        List<String> problems = new ArrayList<>();
        clientAttributes.keySet().stream().sorted()
                .filter(key -> key.startsWith(Attribute.PREFIX) && Attribute.byKey(key).isEmpty())
                .forEach(key -> problems.add(Attribute.unknownKeyProblem(key)));
        problems.addAll(resolve(clientAttributes::get, realmAttribute, kind).clientProblems());
        return problems;
    }

    /** Session attribute: the values refresh-guard's client-policy executor wrote into the client being saved. */
    public static final String SET_BY_CLIENT_POLICY = "refresh-guard.set-by-client-policy";

    /**
     * Client values whose effect reaches beyond the client (issue 23, point 5): {@code reuse.action=revoke-all-sessions}
     * ends every session of the user in every client; {@code notify.user=true} emails the user. Only someone who may
     * manage the realm may set them on a client; {@code storedValue} gives the value before this change (null: none),
     * so that an unchanged value a realm admin set does not block others from editing the client.
     */
    public static List<String> problemsBeyondClient(Function<String, String> clientAttribute, Function<String, String> storedValue) {
        List<String> problems = new ArrayList<>();
        for (Attribute attribute : List.of(Attribute.REUSE_ACTION, Attribute.REUSE_ACTION_LIKELY_RETRY, Attribute.NOTIFY_USER)) {
            String wide = attribute == Attribute.NOTIFY_USER ? "true" : ReuseAction.REVOKE_ALL_SESSIONS.word();
            String value = present(clientAttribute.apply(attribute.key()));
            if (wide.equalsIgnoreCase(value == null ? "" : value)
                    && !wide.equalsIgnoreCase(String.valueOf(present(storedValue.apply(attribute.key()))))) {
                problems.add(attribute.key() + " '" + value + "' reaches beyond this client"
                        + (attribute != Attribute.NOTIFY_USER ? " (every session of the user, in every client)" : " (emails the user)")
                        + ": only an admin who may manage the realm (manage-realm) can set it on a client; set it on the"
                        + " realm instead, or ask a realm admin");
            }
        }
        return problems;
    }

    /**
     * What a realm-level form must refuse in a realm's {@code refresh.guard.*} values, with the messages the admin API
     * gives for client values: refused values and a max below its idle value. A realm-wide rotation 'off' is allowed:
     * it applies to the realm's confidential clients, its public clients without DPoP keep rotating.
     */
    public static List<String> problemsOfRealmAttributes(Map<String, String> realmAttributes) {
        return resolve(Map.of(), realmAttributes, ClientKind.CONFIDENTIAL).invalidSettings().stream().map(Setting::problem).toList();
    }

    private static Setting judge(Attribute attribute, String raw, Source source) {
        return attribute.accepts(raw)
                ? Setting.accepted(attribute, raw, source)
                : Setting.rejected(attribute, raw, source, attribute.problem(raw));
    }

    private static void refuseMaxBelowIdle(Map<Attribute, Setting> settings, Attribute idle, Attribute max, List<String> clientProblems) {
        Setting idleSetting = settings.get(idle);
        Setting maxSetting = settings.get(max);
        int idleValue = Integer.parseInt(idleSetting.value());
        int maxValue = Integer.parseInt(maxSetting.value());
        if (idleValue > 0 && maxValue > 0 && maxValue < idleValue) {
            Setting refused = Setting.rejected(max, maxSetting.value(), maxSetting.source(),
                    max.key() + " accepts 0 or a value >= " + idle.key() + " (" + idleValue + "); got '" + maxValue + "'");
            settings.put(max, refused);
            // A client that sets either side of the pair makes the combination: its update is refused.
            if (maxSetting.source() == Source.CLIENT || idleSetting.source() == Source.CLIENT) {
                clientProblems.add(refused.problem());
            }
        }
    }

    private static void refuseUnsafeRotationOff(Map<Attribute, Setting> settings, ClientKind kind, List<String> clientProblems) {
        Setting rotation = settings.get(Attribute.ROTATION);
        if ("off".equals(rotation.value()) && kind.needsRotation()) {
            Setting refused = Setting.rejected(Attribute.ROTATION, "off", rotation.source(),
                    Attribute.ROTATION.key() + " accepts 'off' only for confidential clients or public clients that"
                            + " require DPoP-bound tokens (RFC 9700 section 2.2.2); got 'off' on a public client");
            settings.put(Attribute.ROTATION, refused);
            // Only the client's own 'off' is refused: a realm-wide 'off' still applies to its confidential clients.
            if (rotation.source() == Source.CLIENT) {
                clientProblems.add(refused.problem());
            }
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

    /**
     * Messages for what the client's own attributes get wrong, which the admin API refuses: a refused value, a
     * max/idle pair the client takes part in, rotation off on a public client without DPoP, a realm-only attribute.
     */
    public List<String> clientProblems() {
        return clientProblems;
    }

    public boolean rotation() {
        return rotation;
    }

    public ReuseAction reuseAction() {
        return reuseAction;
    }

    /**
     * The action for a reuse with this verdict: the reuse action, unless the client (or realm) chose another one for
     * {@code likely-retry}. Any other verdict always gets the reuse action.
     */
    public ReuseAction reuseAction(boolean likelyRetry) {
        return likelyRetry ? likelyRetryAction : reuseAction;
    }

    /** Seconds after a rotation within which the same address and User-Agent make a reuse likely-retry. */
    public int retrySeconds() {
        return retrySeconds;
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

    /** How long the user's "This wasn't me" link works, in seconds. */
    public int wasntMeSeconds() {
        return wasntMeSeconds;
    }

    /** Whether "This wasn't me" also requires the user to choose a new password at the next sign-in. */
    public boolean wasntMeUpdatePassword() {
        return wasntMeUpdatePassword;
    }
}
