package dev.refreshguard.alert;

import java.io.IOException;
import java.text.MessageFormat;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

import org.keycloak.locale.LocaleSelectorProvider;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.theme.FreeMarkerException;
import org.keycloak.theme.Theme;
import org.keycloak.theme.beans.MessageFormatterMethod;
import org.keycloak.theme.freemarker.FreeMarkerProvider;

/**
 * Renders reuse alert emails from the email theme {@code refresh-guard} (shipped in this JAR), whatever email theme
 * the realm uses for Keycloak's own mails: the alert has templates and messages of its own.
 * The user's letter is in the user's locale, the alert address's letter in the realm's default locale.
 */
final class AlertLetters {

    static final String THEME = "refresh-guard";
    static final String TEMPLATE = "refresh-guard-reuse.ftl";

    /** The same in every locale, so that letters, log lines and events are easy to line up. */
    private static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
            .withZone(ZoneOffset.UTC);

    enum Audience {
        USER("user", "user"),
        TEAM("team", "realm's alert address");

        /** Suffix of the audience's message keys, and the template's {@code audience}. */
        final String word;
        private final String description;

        Audience(String word, String description) {
            this.word = word;
            this.description = description;
        }

        String description() {
            return description;
        }
    }

    record Letter(Audience audience, String address, String subject, String text, String html) {
    }

    private AlertLetters() {
    }

    static Letter render(KeycloakSession session, RealmModel realm, ReuseAlert alert, UserModel user, Audience audience,
                         String address, String wasntMeLink) throws IOException, FreeMarkerException {
        Theme theme = session.theme().getTheme(THEME, Theme.Type.EMAIL);
        Locale locale = session.getProvider(LocaleSelectorProvider.class)
                .resolveLocale(realm, audience == Audience.USER ? user : null);
        Properties messages = theme.getEnhancedMessages(realm, locale);
        Map<String, String> facts = facts(alert, user, messages.getProperty("refreshGuardUnknown", "unknown"));
        String realmName = realm.getDisplayName() != null && !realm.getDisplayName().isBlank()
                ? realm.getDisplayName() : realm.getName();

        // Values go into the templates as data, never into message patterns: the user agent is the presenter's text.
        Map<String, Object> model = new HashMap<>();
        model.put("audience", audience.word);
        model.put("alert", facts);
        model.put("rows", rows(audience, facts));
        model.put("realmName", realmName);
        model.put("locale", locale);
        model.put("msg", new MessageFormatterMethod(locale, messages));
        model.put("properties", theme.getProperties());
        if (wasntMeLink != null) {
            model.put("wasntMeLink", wasntMeLink);
        }

        String subjectKey = "refreshGuardReuseSubject_" + audience.word;
        String subject = new MessageFormat(messages.getProperty(subjectKey, subjectKey), locale)
                .format(new Object[] {realmName, alert.clientId(), facts.get("username")});
        FreeMarkerProvider freeMarker = session.getProvider(FreeMarkerProvider.class);
        String text = freeMarker.processTemplate(model, "text/" + TEMPLATE, theme);
        String html = freeMarker.processTemplate(model, "html/" + TEMPLATE, theme);
        return new Letter(audience, address, subject, text, html);
    }

    /** Every fact of the alert as text, for the templates ({@code alert.*}). */
    static Map<String, String> facts(ReuseAlert alert, UserModel user, String unknown) {
        Map<String, String> facts = new LinkedHashMap<>();
        facts.put("time", WHEN.format(Instant.ofEpochMilli(alert.time())));
        facts.put("realm", alert.realmName());
        facts.put("client", alert.clientId());
        facts.put("username", user != null ? user.getUsername() : alert.userId());
        facts.put("userId", alert.userId());
        facts.put("sessionId", orUnknown(alert.sessionId(), unknown));
        facts.put("ipAddress", orUnknown(alert.presenterIp(), unknown));
        facts.put("firstUseIp", orUnknown(alert.firstUseIp(), unknown));
        facts.put("userAgent", orUnknown(alert.userAgent(), unknown));
        facts.put("familyId", alert.familyId());
        facts.put("generation", Integer.toString(alert.generation()));
        facts.put("latestGeneration", Integer.toString(alert.latestGeneration()));
        facts.put("secondsSinceRotation", alert.secondsSinceRotation() < 0 ? unknown : Long.toString(alert.secondsSinceRotation()));
        facts.put("action", alert.action());
        facts.put("sessionsRevoked", Integer.toString(alert.sessionsRevoked()));
        facts.put("verdict", alert.verdict() == null ? unknown : alert.verdict().word());
        Evidence e = alert.evidence();
        facts.put("sameIp", e == null ? unknown : fact(e.sameIp(), unknown));
        facts.put("sameUserAgent", e == null ? unknown : fact(e.sameUserAgent(), unknown));
        facts.put("sameDpopKey", e == null ? unknown : fact(e.sameDpopKey(), unknown));
        facts.put("incidentCount", alert.incident() == null ? "1" : Integer.toString(alert.incident().count()));
        return facts;
    }

    /** The facts each audience is shown, in order, as (message key of the label, value). */
    static List<Map<String, String>> rows(Audience audience, Map<String, String> facts) {
        if (audience == Audience.USER) {
            return List.of(row("refreshGuardWhen", facts.get("time")),
                    row("refreshGuardClient", facts.get("client")),
                    row("refreshGuardPresenterIp", facts.get("ipAddress")),
                    row("refreshGuardFirstUseIp", facts.get("firstUseIp")),
                    row("refreshGuardUserAgent", facts.get("userAgent")),
                    row("refreshGuardVerdict", facts.get("verdict")));
        }
        return List.of(row("refreshGuardWhen", facts.get("time")),
                row("refreshGuardRealm", facts.get("realm")),
                row("refreshGuardClient", facts.get("client")),
                row("refreshGuardUser", facts.get("username") + " (" + facts.get("userId") + ")"),
                row("refreshGuardSession", facts.get("sessionId")),
                row("refreshGuardPresenterIp", facts.get("ipAddress")),
                row("refreshGuardFirstUseIp", facts.get("firstUseIp")),
                row("refreshGuardUserAgent", facts.get("userAgent")),
                row("refreshGuardFamily", facts.get("familyId")),
                row("refreshGuardGenerations", facts.get("generation") + " / " + facts.get("latestGeneration")),
                row("refreshGuardSecondsSinceRotation", facts.get("secondsSinceRotation")),
                row("refreshGuardVerdict", facts.get("verdict")),
                row("refreshGuardEvidence", "same IP " + facts.get("sameIp") + ", same user agent " + facts.get("sameUserAgent")
                        + ", same DPoP key " + facts.get("sameDpopKey")),
                row("refreshGuardAction", facts.get("action")),
                row("refreshGuardSessionsRevoked", facts.get("sessionsRevoked")));
    }

    private static Map<String, String> row(String label, String value) {
        return Map.of("label", label, "value", value == null ? "" : value);
    }

    private static String fact(Boolean value, String unknown) {
        return value == null ? unknown : value.toString();
    }

    private static String orUnknown(String value, String unknown) {
        return value == null || value.isBlank() ? unknown : value;
    }
}
