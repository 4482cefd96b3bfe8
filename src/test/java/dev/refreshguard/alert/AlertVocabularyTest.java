package dev.refreshguard.alert;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Security teams filter on these words: a change to any of them is a breaking change, made here on purpose. */
class AlertVocabularyTest {

    @Test
    void eventErrorCodesAreTheDocumentedOnes() {
        assertThat(AlertVocabulary.ERROR_REUSED).isEqualTo("refresh_token_reused");
        assertThat(AlertVocabulary.ERROR_FAMILY_REVOKED).isEqualTo("refresh_token_family_revoked");
        assertThat(AlertVocabulary.ERROR_EXPIRED).isEqualTo("refresh_token_expired");
        assertThat(AlertVocabulary.ERROR_STALE).isEqualTo("refresh_token_stale");
    }

    @Test
    void detailKeysAreTheDocumentedOnes() {
        assertThat(new String[] {AlertVocabulary.FAMILY_ID, AlertVocabulary.GENERATION, AlertVocabulary.LATEST_GENERATION,
                AlertVocabulary.SECONDS_SINCE_ROTATION, AlertVocabulary.FIRST_USE_IP, AlertVocabulary.ACTION,
                AlertVocabulary.SESSIONS_REVOKED, AlertVocabulary.GRACE_REPLAY, AlertVocabulary.USER_ID,
                AlertVocabulary.CLIENT_ID, AlertVocabulary.FAMILIES_REVOKED})
                .containsExactly("family_id", "generation", "latest_generation", "seconds_since_rotation", "first_use_ip",
                        "action", "sessions_revoked", "grace_replay", "user_id", "client_id", "families_revoked");
    }

    @Test
    void alertLineOnlyFieldsAreTheDocumentedOnes() {
        assertThat(new String[] {AlertVocabulary.JSON_ALERT, AlertVocabulary.JSON_TIMESTAMP, AlertVocabulary.JSON_REALM,
                AlertVocabulary.JSON_SESSION_ID, AlertVocabulary.JSON_IP_ADDRESS, AlertVocabulary.JSON_USER_AGENT})
                .containsExactly("alert", "timestamp", "realm", "session_id", "ip_address", "user_agent");
    }
}
