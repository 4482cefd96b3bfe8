package dev.refreshguard.refresh;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.Admin;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.TestRealm;

/** The JAR loads into the real distribution; protected and stock realms both serve logins and refreshes. */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SkeletonIT {

    private KeycloakServer server;
    private TestRealm guarded;
    private TestRealm stock;

    @BeforeAll
    void realms(KeycloakServer server) {
        this.server = server;
        guarded = TestRealm.guarded(server, "skeleton", java.util.Map.of());
        stock = TestRealm.stock(server, "stock");
    }

    @Test
    void serverInfoListsEveryProviderWithTheJarVersion() {
        JsonNode providers = new Admin(server).admin("GET", "/serverinfo", null).json().get("providers");
        String version = System.getProperty("guard.version");
        for (String spi : List.of("refresh-guard", "refresh-token", "eventsListener", "jpa-entity-provider", "oauth2-token-exchange")) {
            assertThat(providers.path(spi).path("providers").path("refresh-guard").isMissingNode()).as("refresh-guard in SPI %s", spi).isFalse();
        }
        // Every SPI the JAR registers a provider in, not only the ones named above, reports the JAR's version.
        java.util.List<String> spis = new java.util.ArrayList<>();
        providers.fieldNames().forEachRemaining(spi -> {
            if (!providers.path(spi).path("providers").path("refresh-guard").isMissingNode()) {
                spis.add(spi);
            }
        });
        assertThat(spis).as("SPIs with a refresh-guard provider").hasSizeGreaterThanOrEqualTo(11);
        for (String spi : spis) {
            JsonNode provider = providers.path(spi).path("providers").path("refresh-guard");
            assertThat(provider.path("operationalInfo").path("version").asText()).as("version in %s", spi).isEqualTo(version);
        }
    }

    @Test
    void bothRealmsServePasswordLoginsAndRefreshes() {
        for (TestRealm realm : List.of(guarded, stock)) {
            Oidc spa = realm.spa();
            Reply login = spa.password("alice", "alice");
            assertThat(login.status()).as("login in %s: %s", realm.name, login).isEqualTo(200);
            Reply refreshed = spa.refresh(login.text("refresh_token"));
            assertThat(refreshed.status()).as("refresh in %s: %s", realm.name, refreshed).isEqualTo(200);
            assertThat(refreshed.text("refresh_token")).isNotEqualTo(login.text("refresh_token"));
            assertThat(spa.userinfo(refreshed.text("access_token")).status()).isEqualTo(200);
        }
    }

    @Test
    void bothRealmsServeAuthorizationCodeLoginsAndRefreshes() {
        for (TestRealm realm : List.of(guarded, stock)) {
            Oidc spa = realm.spa();
            Reply login = spa.authorizationCode("bob", "bob", TestRealm.REDIRECT);
            assertThat(login.status()).as("code login in %s: %s", realm.name, login).isEqualTo(200);
            assertThat(login.text("id_token")).isNotNull();
            Reply refreshed = spa.refresh(login.text("refresh_token"));
            assertThat(refreshed.status()).as("refresh in %s: %s", realm.name, refreshed).isEqualTo(200);
        }
    }

    @Test
    void tokenResponsesHaveTheSameFieldsInBothRealms() {
        Reply guardedLogin = guarded.spa().password("alice", "alice");
        Reply stockLogin = stock.spa().password("alice", "alice");
        assertThat(fields(guardedLogin.json())).isEqualTo(fields(stockLogin.json()))
                .contains("access_token", "expires_in", "refresh_expires_in", "refresh_token", "token_type",
                        "not-before-policy", "session_state", "scope");
        Reply guardedRefresh = guarded.spa().refresh(guardedLogin.text("refresh_token"));
        Reply stockRefresh = stock.spa().refresh(stockLogin.text("refresh_token"));
        assertThat(fields(guardedRefresh.json())).isEqualTo(fields(stockRefresh.json()));
        // Counted from two requests a moment apart: the same expiry may read one second less.
        assertThat(guardedRefresh.json().get("refresh_expires_in").asLong())
                .isCloseTo(stockRefresh.json().get("refresh_expires_in").asLong(), org.assertj.core.data.Offset.offset(1L));
    }

    @Test
    void stockRealmIsUntouched() {
        Oidc spa = stock.spa();
        Reply login = spa.password("alice", "alice");
        JsonNode claims = Oidc.claims(login.text("refresh_token"));
        assertThat(claims.has("rg_fid")).isFalse();
        assertThat(claims.get("prov").asText()).isEqualTo("default");
        // Stock Keycloak (no "revoke refresh token") lets the same refresh token be used again.
        assertThat(spa.refresh(login.text("refresh_token")).status()).isEqualTo(200);
        assertThat(spa.refresh(login.text("refresh_token")).status()).isEqualTo(200);
    }

    @Test
    void malformedRefreshTokensGetTheSameErrorInBothRealms() {
        List<String> answers = new ArrayList<>();
        for (TestRealm realm : List.of(guarded, stock)) {
            Reply reply = realm.spa().refresh("not-a-token");
            assertThat(reply.status()).isEqualTo(400);
            answers.add(reply.text("error") + "|" + reply.text("error_description"));
        }
        assertThat(answers.get(0)).isEqualTo(answers.get(1)).isEqualTo("invalid_grant|Invalid refresh token");
        JsonNode event = stock.admin.events(stock.name, "REFRESH_TOKEN_ERROR").get(0);
        assertThat(event.get("error").asText()).isEqualTo("invalid_token");
    }

    private static List<String> fields(JsonNode json) {
        List<String> names = new ArrayList<>();
        json.fieldNames().forEachRemaining(names::add);
        names.sort(null);
        return names;
    }
}
