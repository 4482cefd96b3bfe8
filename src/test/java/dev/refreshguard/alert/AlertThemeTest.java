package dev.refreshguard.alert;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.text.MessageFormat;
import java.util.Map;
import java.util.Properties;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;

import dev.refreshguard.alert.AlertLetters.Audience;
import dev.refreshguard.policy.ReuseAction;

/** The email theme as packaged: declared to Keycloak, both languages complete, every key the letters use present. */
class AlertThemeTest {

    private static final String THEME_ROOT = "theme/" + AlertLetters.THEME + "/email/";
    private static final ReuseAlert ALERT = new ReuseAlert(0L, "realm", "spa", "user-id", null, "10.0.0.1", null,
            "family-id", 0, 3, -1, null, "revoke-family", 1, new Evidence(null, null, null, -1, true), Verdict.INCONCLUSIVE,
            new Incident(0, 1), AlertVocabulary.SIGNAL_ROTATED);

    @Test
    void theJarDeclaresTheEmailTheme() throws IOException {
        JsonNode themes;
        try (InputStream in = resource("META-INF/keycloak-themes.json")) {
            themes = new ObjectMapper().readTree(in).get("themes");
        }
        assertThat(themes).anySatisfy(t -> {
            assertThat(t.get("name").asText()).isEqualTo(AlertLetters.THEME);
            assertThat(t.get("types").toString()).isEqualTo("[\"email\"]");
        });
        Properties theme = load(THEME_ROOT + "theme.properties");
        assertThat(theme.getProperty("parent")).isEqualTo("base");
        ClassLoader jar = AlertThemeTest.class.getClassLoader();
        assertThat(jar.getResource(THEME_ROOT + "html/" + AlertLetters.TEMPLATE)).isNotNull();
        assertThat(jar.getResource(THEME_ROOT + "text/" + AlertLetters.TEMPLATE)).isNotNull();
    }

    @Test
    void everyLanguageHasEveryKeyTheLettersUse() throws IOException {
        Properties en = load(THEME_ROOT + "messages/messages_en.properties");
        Properties de = load(THEME_ROOT + "messages/messages_de.properties");
        assertThat(de.stringPropertyNames()).isEqualTo(en.stringPropertyNames());
        for (Properties messages : new Properties[] {en, de}) {
            for (Audience audience : Audience.values()) {
                for (String key : new String[] {"refreshGuardReuseSubject_", "refreshGuardReuseIntro_", "refreshGuardAdvice_"}) {
                    assertThat(messages).containsKey(key + audience.word);
                }
                for (Map<String, String> row : AlertLetters.rows(audience, AlertLetters.facts(ALERT, null, "?"))) {
                    assertThat(messages).containsKey(row.get("label"));
                }
            }
            for (ReuseAction action : ReuseAction.values()) {
                assertThat(messages).containsKey("refreshGuardRevoked_" + action.word());
            }
            assertThat(messages).containsKey("refreshGuardUnknown");
        }
    }

    @Test
    void everyMessageIsAValidPatternWithoutStrayApostrophes() throws IOException {
        for (String language : new String[] {"en", "de"}) {
            Properties messages = load(THEME_ROOT + "messages/messages_" + language + ".properties");
            for (String key : messages.stringPropertyNames()) {
                String pattern = messages.getProperty(key);
                String formatted = new MessageFormat(pattern).format(new Object[] {"A", "B", "C"});
                // a single ' would swallow text up to the next one; '' becomes one apostrophe
                assertThat(formatted.chars().filter(c -> c == '\'').count())
                        .as("%s %s", language, key).isEqualTo(pattern.split("''", -1).length - 1L);
            }
        }
    }

    @Test
    void unknownFactsAreSaidSoAndTheUsersLetterShowsNoInternals() {
        Map<String, String> facts = AlertLetters.facts(ALERT, null, "unknown");
        assertThat(facts).containsEntry("time", "1970-01-01 00:00:00 UTC")
                .containsEntry("sessionId", "unknown")
                .containsEntry("firstUseIp", "unknown")
                .containsEntry("userAgent", "unknown")
                .containsEntry("secondsSinceRotation", "unknown")
                .containsEntry("username", "user-id");
        assertThat(AlertLetters.rows(Audience.USER, facts)).extracting(r -> r.get("value"))
                .doesNotContain("family-id", "user-id");
        assertThat(AlertLetters.rows(Audience.TEAM, facts)).extracting(r -> r.get("value"))
                .contains("family-id", "0 / 3", "revoke-family");
    }

    private static InputStream resource(String path) {
        return AlertThemeTest.class.getClassLoader().getResourceAsStream(path);
    }

    private static Properties load(String path) throws IOException {
        try (InputStream in = resource(path)) {
            assertThat(in).as(path).isNotNull();
            Properties p = new Properties();
            p.load(new InputStreamReader(in, StandardCharsets.UTF_8));
            return p;
        }
    }
}
