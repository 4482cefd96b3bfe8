package dev.refreshguard.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import dev.refreshguard.policy.Setting.Source;

/** The policy rules: resolution, every refused value class, the cross rules, the admin's messages. */
class PolicyTest {

    private static final ClientKind PUBLIC = new ClientKind(true, false);
    private static final ClientKind PUBLIC_DPOP = new ClientKind(true, true);

    /** Two different valid values per attribute, so that client, realm and default are told apart. */
    private static String[] samples(Attribute attribute) {
        return switch (attribute) {
            case ROTATION -> new String[] {"off", "on"};
            case REUSE_ACTION -> new String[] {"alert-only", "revoke-all-sessions"};
            case REUSE_ACTION_LIKELY_RETRY -> new String[] {"refuse", "alert-only"};
            case GRACE_SECONDS, REUSE_RETRY_SECONDS -> new String[] {"7", "300"};
            case IDLE_SECONDS, OFFLINE_IDLE_SECONDS -> new String[] {"30", "40"};
            case MAX_SECONDS, OFFLINE_MAX_SECONDS -> new String[] {"600", "700"};
            case NOTIFY_USER -> new String[] {"true", "false"};
            case ALERT_EMAIL -> new String[] {"soc@example.com", "sec@example.org"};
            case WASNT_ME_SECONDS -> new String[] {"600", "86400"};
            case WASNT_ME_UPDATE_PASSWORD -> new String[] {"true", "false"};
        };
    }

    private static Policy resolve(Map<String, String> client, Map<String, String> realm) {
        return Policy.resolve(client, realm, ClientKind.CONFIDENTIAL);
    }

    @ParameterizedTest
    @EnumSource(Attribute.class)
    void clientAttributeWinsOverRealmAttribute(Attribute attribute) {
        String[] v = samples(attribute);
        Setting s = resolve(Map.of(attribute.key(), v[0]), Map.of(attribute.key(), v[1])).setting(attribute);
        if (attribute.realmOnly()) {
            // A realm-only attribute is never read from a client.
            assertThat(s).extracting(Setting::value, Setting::source).containsExactly(v[1], Source.REALM);
        } else {
            assertThat(s).extracting(Setting::value, Setting::source, Setting::valid).containsExactly(v[0], Source.CLIENT, true);
        }
    }

    @ParameterizedTest
    @EnumSource(Attribute.class)
    void realmAttributeWinsOverDefault(Attribute attribute) {
        String value = samples(attribute)[1];
        Setting s = resolve(Map.of(), Map.of(attribute.key(), value)).setting(attribute);
        assertThat(s).extracting(Setting::value, Setting::source, Setting::valid).containsExactly(value, Source.REALM, true);
    }

    @ParameterizedTest
    @EnumSource(Attribute.class)
    void defaultWhenNeitherSetsIt(Attribute attribute) {
        Setting s = resolve(Map.of(), Map.of()).setting(attribute);
        assertThat(s).extracting(Setting::value, Setting::source, Setting::valid)
                .containsExactly(attribute.defaultValue(), Source.DEFAULT, true);
    }

    @ParameterizedTest
    @EnumSource(Attribute.class)
    void blankValuesAreUnset(Attribute attribute) {
        String value = samples(attribute)[1];
        Setting fromRealm = resolve(Map.of(attribute.key(), "   "), Map.of(attribute.key(), value)).setting(attribute);
        assertThat(fromRealm).extracting(Setting::value, Setting::source).containsExactly(value, Source.REALM);
        Setting fromDefault = resolve(Map.of(attribute.key(), ""), Map.of(attribute.key(), " \t")).setting(attribute);
        assertThat(fromDefault).extracting(Setting::value, Setting::source, Setting::valid)
                .containsExactly(attribute.defaultValue(), Source.DEFAULT, true);
    }

    @Test
    void defaultsAreTheDocumentedDefaults() {
        Policy p = Policy.defaults();
        assertThat(p.rotation()).isTrue();
        assertThat(p.reuseAction()).isEqualTo(ReuseAction.REVOKE_FAMILY);
        assertThat(p.graceSeconds()).isZero();
        assertThat(p.idleSeconds(false)).isZero();
        assertThat(p.maxSeconds(false)).isZero();
        assertThat(p.idleSeconds(true)).isZero();
        assertThat(p.maxSeconds(true)).isZero();
        assertThat(p.notifyUser()).isFalse();
        assertThat(p.alertEmail()).isNull();
        assertThat(p.invalidSettings()).isEmpty();
        assertThat(p.clientProblems()).isEmpty();
    }

    @Test
    void typedValuesFollowTheResolvedSettings() {
        Policy p = resolve(Map.of("refresh.guard.rotation", "off", "refresh.guard.grace.seconds", " 12 ",
                        "refresh.guard.idle.seconds", "60", "refresh.guard.offline.max.seconds", "9000"),
                Map.of("refresh.guard.reuse.action", "revoke-user-session", "refresh.guard.max.seconds", "3600",
                        "refresh.guard.offline.idle.seconds", "900", "refresh.guard.notify.user", "true",
                        "refresh.guard.alert.email", "soc@example.com"));
        assertThat(p.rotation()).isFalse();
        assertThat(p.reuseAction()).isEqualTo(ReuseAction.REVOKE_USER_SESSION);
        assertThat(p.graceSeconds()).isEqualTo(12);
        assertThat(p.idleSeconds(false)).isEqualTo(60);
        assertThat(p.maxSeconds(false)).isEqualTo(3600);
        assertThat(p.idleSeconds(true)).isEqualTo(900);
        assertThat(p.maxSeconds(true)).isEqualTo(9000);
        assertThat(p.notifyUser()).isTrue();
        assertThat(p.alertEmail()).isEqualTo("soc@example.com");
    }

    @ParameterizedTest(name = "{0}=''{1}'' is refused")
    @CsvSource(delimiter = '|', value = {
            // not a number
            "refresh.guard.grace.seconds|ten",
            "refresh.guard.idle.seconds|1.5",
            "refresh.guard.max.seconds|1e3",
            "refresh.guard.offline.idle.seconds|0x10",
            "refresh.guard.offline.max.seconds|+60",
            "refresh.guard.grace.seconds|٣",
            // out of range
            "refresh.guard.grace.seconds|301",
            "refresh.guard.grace.seconds|-1",
            "refresh.guard.idle.seconds|-5",
            "refresh.guard.max.seconds|99999999999",
            "refresh.guard.offline.max.seconds|315360001",
            "refresh.guard.wasnt.me.seconds|0",
            "refresh.guard.wasnt.me.seconds|604801",
            "refresh.guard.wasnt.me.seconds|1h",
            "refresh.guard.wasnt.me.update.password|yes",
            // unknown word
            "refresh.guard.rotation|maybe",
            "refresh.guard.rotation|ON",
            "refresh.guard.reuse.action|revoke",
            "refresh.guard.reuse.action|REVOKE-FAMILY",
            "refresh.guard.notify.user|yes",
            "refresh.guard.alert.email|not-an-address",
    })
    void invalidValuesFallBackToTheDefaultAndSayWhy(String key, String raw) {
        Attribute attribute = Attribute.byKey(key).orElseThrow();
        for (Source source : List.of(Source.CLIENT, Source.REALM)) {
            if (source == Source.CLIENT && attribute.realmOnly()) {
                continue;
            }
            Map<String, String> attrs = Map.of(key, raw);
            Policy p = source == Source.CLIENT ? resolve(attrs, Map.of()) : resolve(Map.of(), attrs);
            Setting s = p.setting(attribute);
            assertThat(s.valid()).as("%s from %s", raw, source).isFalse();
            assertThat(s.source()).isEqualTo(source);
            assertThat(s.value()).isEqualTo(attribute.defaultValue());
            assertThat(s.rejectedValue()).isEqualTo(raw);
            assertThat(s.problem()).startsWith(key + " accepts " + attribute.accepts()).contains(raw);
            assertThat(p.invalidSettings()).containsExactly(s);
            assertThat(p.clientProblems()).isEqualTo(source == Source.CLIENT ? List.of(s.problem()) : List.of());
        }
    }

    @Test
    void anInvalidClientValueFallsBackToTheDefaultNotToTheRealmValue() {
        Setting s = resolve(Map.of("refresh.guard.grace.seconds", "abc"), Map.of("refresh.guard.grace.seconds", "30"))
                .setting(Attribute.GRACE_SECONDS);
        assertThat(s).extracting(Setting::value, Setting::source, Setting::valid).containsExactly("0", Source.CLIENT, false);
    }

    @ParameterizedTest
    @CsvSource({"0", "300", "0007"})
    void graceAcceptsZeroToThreeHundred(String raw) {
        assertThat(resolve(Map.of("refresh.guard.grace.seconds", raw), Map.of()).setting(Attribute.GRACE_SECONDS).valid()).isTrue();
    }

    @ParameterizedTest
    @CsvSource({"refresh.guard.idle.seconds,refresh.guard.max.seconds,false",
            "refresh.guard.offline.idle.seconds,refresh.guard.offline.max.seconds,true"})
    void maxBelowIdleIsRefusedWhenBothArePositive(String idleKey, String maxKey, boolean offline) {
        Attribute max = Attribute.byKey(maxKey).orElseThrow();
        Policy p = resolve(Map.of(idleKey, "100", maxKey, "50"), Map.of());
        Setting s = p.setting(max);
        assertThat(s).extracting(Setting::valid, Setting::value, Setting::rejectedValue, Setting::source)
                .containsExactly(false, "0", "50", Source.CLIENT);
        assertThat(s.problem()).isEqualTo(maxKey + " accepts 0 or a value >= " + idleKey + " (100); got '50'");
        assertThat(p.idleSeconds(offline)).isEqualTo(100);
        assertThat(p.maxSeconds(offline)).isZero();
        assertThat(p.clientProblems()).containsExactly(s.problem());

        // Equal, zero on either side: accepted.
        for (Map<String, String> ok : List.of(Map.of(idleKey, "100", maxKey, "100"), Map.of(idleKey, "0", maxKey, "50"),
                Map.of(idleKey, "100", maxKey, "0"))) {
            assertThat(resolve(ok, Map.of()).invalidSettings()).as("%s", ok).isEmpty();
        }
    }

    @Test
    void theOtherPairIsNotComparedAcrossOnlineAndOffline() {
        assertThat(resolve(Map.of("refresh.guard.idle.seconds", "100", "refresh.guard.offline.max.seconds", "50"), Map.of())
                .invalidSettings()).isEmpty();
    }

    @Test
    void aClientIdleAboveTheRealmMaxIsTheClientsProblem() {
        Policy p = resolve(Map.of("refresh.guard.idle.seconds", "100"), Map.of("refresh.guard.max.seconds", "50"));
        assertThat(p.setting(Attribute.MAX_SECONDS)).extracting(Setting::valid, Setting::source).containsExactly(false, Source.REALM);
        assertThat(p.clientProblems()).singleElement().asString().startsWith("refresh.guard.max.seconds accepts 0 or a value >=");
    }

    @Test
    void aRealmPairBelowIdleIsNotAClientProblem() {
        Policy p = resolve(Map.of(), Map.of("refresh.guard.idle.seconds", "100", "refresh.guard.max.seconds", "50"));
        assertThat(p.invalidSettings()).hasSize(1);
        assertThat(p.clientProblems()).isEmpty();
    }

    @Test
    void rotationOffIsRefusedOnAPublicClientWithoutDpop() {
        Policy p = Policy.resolve(Map.of("refresh.guard.rotation", "off"), Map.of(), PUBLIC);
        Setting s = p.setting(Attribute.ROTATION);
        assertThat(s).extracting(Setting::valid, Setting::value, Setting::rejectedValue).containsExactly(false, "on", "off");
        assertThat(s.problem()).startsWith("refresh.guard.rotation accepts 'off' only for confidential clients or public"
                + " clients that require DPoP-bound tokens");
        assertThat(p.rotation()).isTrue();
        assertThat(p.clientProblems()).containsExactly(s.problem());
    }

    @Test
    void rotationOffIsAllowedOnConfidentialAndOnDpopBoundPublicClients() {
        for (ClientKind kind : List.of(ClientKind.CONFIDENTIAL, PUBLIC_DPOP, new ClientKind(false, true))) {
            Policy p = Policy.resolve(Map.of("refresh.guard.rotation", "off"), Map.of(), kind);
            assertThat(p.rotation()).as("%s", kind).isFalse();
            assertThat(p.invalidSettings()).isEmpty();
        }
    }

    @Test
    void aRealmWideRotationOffAppliesToConfidentialClientsAndIsRefusedForPublicOnes() {
        Map<String, String> realm = Map.of("refresh.guard.rotation", "off");
        assertThat(Policy.resolve(Map.of(), realm, ClientKind.CONFIDENTIAL).rotation()).isFalse();
        Policy forPublic = Policy.resolve(Map.of(), realm, PUBLIC);
        assertThat(forPublic.rotation()).isTrue();
        assertThat(forPublic.setting(Attribute.ROTATION)).extracting(Setting::valid, Setting::source).containsExactly(false, Source.REALM);
        // Creating a public client in such a realm is not refused: the client sets nothing wrong.
        assertThat(forPublic.clientProblems()).isEmpty();
    }

    @Test
    void theAlertAddressIsRealmOnly() {
        Policy p = resolve(Map.of("refresh.guard.alert.email", "soc@example.com"), Map.of());
        assertThat(p.alertEmail()).isNull();
        assertThat(p.clientProblems()).containsExactly("refresh.guard.alert.email accepts an email address (realm attribute only);"
                + " it cannot be set on a client, set it on the realm");
    }

    @Test
    void clientProblemsAlsoNameUnknownRefreshGuardKeys() {
        Map<String, String> client = new HashMap<>();
        client.put("refresh.guard.rotaton", "off");
        client.put("refresh.guard.grace.seconds", "5");
        client.put("some.other.attribute", "x");
        List<String> problems = Policy.problemsOfClientAttributes(client, key -> null, ClientKind.CONFIDENTIAL);
        assertThat(problems).singleElement().asString()
                .startsWith("'refresh.guard.rotaton' is not a refresh-guard attribute; client attributes are refresh.guard.rotation,")
                .doesNotContain("alert.email");
    }

    @Test
    void clientProblemsListEveryProblemOnce() {
        Map<String, String> client = Map.of("refresh.guard.rotation", "off", "refresh.guard.grace.seconds", "999",
                "refresh.guard.idle.seconds", "60", "refresh.guard.max.seconds", "30");
        List<String> problems = Policy.problemsOfClientAttributes(client, key -> null, PUBLIC);
        assertThat(problems).hasSize(3).anySatisfy(m -> assertThat(m).startsWith("refresh.guard.grace.seconds accepts an integer from 0 to 300"))
                .anySatisfy(m -> assertThat(m).startsWith("refresh.guard.max.seconds accepts 0 or a value >="))
                .anySatisfy(m -> assertThat(m).startsWith("refresh.guard.rotation accepts 'off' only"));
    }

    @Test
    void messagesNeverCarryControlCharactersOrHugeValues() {
        String raw = "x\ny" + "z".repeat(500);
        Setting s = resolve(Map.of("refresh.guard.rotation", raw), Map.of()).setting(Attribute.ROTATION);
        assertThat(s.problem()).doesNotContain("\n").hasSizeLessThan(200).contains("x?y");
    }

    @Test
    void likelyRetryTakesTheReuseActionUnlessChosenAndRefuseIsOnlyForIt() {
        Policy strict = resolve(Map.of(), Map.of("refresh.guard.reuse.action", "revoke-user-session"));
        assertThat(strict.reuseAction(true)).as("never weaker by default").isEqualTo(ReuseAction.REVOKE_USER_SESSION);
        assertThat(strict.reuseAction(false)).isEqualTo(ReuseAction.REVOKE_USER_SESSION);
        assertThat(strict.retrySeconds()).isEqualTo(10);

        Policy chosen = resolve(Map.of("refresh.guard.reuse.action.likely-retry", "refuse", "refresh.guard.reuse.retry.seconds", "30"), Map.of());
        assertThat(chosen.reuseAction(true)).isEqualTo(ReuseAction.REFUSE);
        assertThat(chosen.reuseAction(false)).isEqualTo(ReuseAction.REVOKE_FAMILY);
        assertThat(chosen.retrySeconds()).isEqualTo(30);

        assertThat(Policy.problemsOfClientAttributes(Map.of("refresh.guard.reuse.action", "refuse"), k -> null, ClientKind.CONFIDENTIAL))
                .containsExactly("refresh.guard.reuse.action accepts one of revoke-family, revoke-user-session, revoke-all-sessions,"
                        + " alert-only; got 'refuse'");
        assertThat(Policy.problemsOfClientAttributes(Map.of("refresh.guard.reuse.action.likely-retry", "forgive"), k -> null,
                ClientKind.CONFIDENTIAL)).containsExactly("refresh.guard.reuse.action.likely-retry accepts one of revoke-family,"
                + " revoke-user-session, revoke-all-sessions, alert-only, refuse (unset: the reuse action); got 'forgive'");
        assertThat(Policy.problemsOfClientAttributes(Map.of("refresh.guard.reuse.retry.seconds", "301"), k -> null,
                ClientKind.CONFIDENTIAL)).containsExactly("refresh.guard.reuse.retry.seconds accepts an integer from 0 to 300; got '301'");
    }
}
