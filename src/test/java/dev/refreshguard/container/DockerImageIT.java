package dev.refreshguard.container;

import static dev.refreshguard.harness.Oidc.expectFamilyRevokedAfterReuse;
import static dev.refreshguard.harness.Oidc.expectReuseDetected;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.refreshguard.harness.Admin;
import dev.refreshguard.harness.ComposeStack;
import dev.refreshguard.harness.ContainerImages;
import dev.refreshguard.harness.ContainerLeg;
import dev.refreshguard.harness.ContainerNode;
import dev.refreshguard.harness.Docker;
import dev.refreshguard.harness.Http;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.TestRealm;

/**
 * docker/Dockerfile, built unchanged, as an admin runs it: node 1 of docker/compose.yaml, `start --optimized` with
 * the JAR in providers/, as a non-root user, no secret in the image; health, metrics, server info and a protected
 * realm answer over HTTP from the host.
 */
@ExtendWith(ContainerLeg.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DockerImageIT {

    private Docker docker;
    private ContainerNode node;

    @BeforeAll
    void stack(ContainerImages images, ComposeStack stack) {
        this.docker = images.docker();
        this.node = stack.node(1);
    }

    @Test
    void theImageRunsOptimizedAsANonRootUserWithTheJarInProviders() {
        String jar = "keycloak-refresh-guard-" + System.getProperty("guard.version") + ".jar";
        assertThat(exec("ls", "/opt/keycloak/providers/")).contains(jar);
        assertThat(exec("id", "-u")).isEqualTo("1000");
        assertThat(inspect(node.container(), "{{json .Args}}")).contains("\"start\"", "\"--optimized\"");
        assertThat(inspect(node.container(), "{{json .Config.Entrypoint}}")).isEqualTo("[\"/opt/keycloak/bin/kc.sh\"]");
        // Built once at image build time (kc.sh build): an optimized start never re-augments.
        assertThat(logs()).doesNotContain("Updating the configuration and installing your custom providers");
        // No secret is baked into the image: the admin and database passwords come from compose's environment.
        String imageEnv = docker.docker(Duration.ofMinutes(1), "image", "inspect", "--format", "{{json .Config.Env}}",
                ContainerImages.GUARD).orFail("docker image inspect").output();
        assertThat(imageEnv).doesNotContain("PASSWORD", "KC_DB_URL", "KC_BOOTSTRAP");
    }

    @Test
    void healthAndMetricsAnswerOnTheManagementPort() {
        Http http = new Http();
        Reply ready = http.get(node.managementUrl() + "/health/ready", null);
        assertThat(ready.status()).isEqualTo(200);
        assertThat(ready.json().get("status").asText()).isEqualTo("UP");
        assertThat(http.get(node.managementUrl() + "/health/live", null).status()).isEqualTo(200);
        Reply metrics = http.get(node.managementUrl() + "/metrics", null);
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.body()).contains("jvm_memory_used_bytes");
    }

    @Test
    void serverInfoListsEveryRefreshGuardProviderWithTheJarVersion() {
        JsonNode providers = new Admin(node).admin("GET", "/serverinfo", null).json().get("providers");
        List<String> spis = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = providers.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> spi = it.next();
            JsonNode ours = spi.getValue().path("providers").path("refresh-guard");
            if (!ours.isMissingNode()) {
                spis.add(spi.getKey());
                assertThat(ours.path("operationalInfo").path("version").asText()).as("version in SPI %s", spi.getKey())
                        .isEqualTo(System.getProperty("guard.version"));
            }
        }
        assertThat(spis).contains("refresh-guard", "refresh-token", "eventsListener", "jpa-entity-provider",
                "oauth2-token-exchange");
    }

    @Test
    void aProtectedRealmDetectsReuseAndRevokesTheFamily() {
        TestRealm realm = TestRealm.guarded(node, "container", Map.of());
        Oidc spa = realm.spa();
        Reply login = spa.password("alice", "alice");
        assertThat(login.status()).as("login: %s", login).isEqualTo(200);
        String r0 = login.text("refresh_token");
        Reply first = spa.refresh(r0);
        assertThat(first.status()).as("refresh: %s", first).isEqualTo(200);
        String r1 = first.text("refresh_token");
        assertThat(spa.userinfo(first.text("access_token")).status()).isEqualTo(200);

        expectReuseDetected(spa.refresh(r0));
        expectFamilyRevokedAfterReuse(spa.refresh(r1));
        assertThat(spa.userinfo(first.text("access_token")).status()).isEqualTo(401);
    }

    private String exec(String... command) {
        List<String> args = new ArrayList<>(List.of("exec", node.container()));
        args.addAll(List.of(command));
        return docker.docker(Duration.ofMinutes(1), args.toArray(String[]::new)).orFail("docker exec " + String.join(" ", command))
                .output().strip();
    }

    private String inspect(String container, String format) {
        return docker.docker(Duration.ofMinutes(1), "inspect", "--format", format, container).orFail("docker inspect").output().strip();
    }

    private String logs() {
        return docker.docker(Duration.ofMinutes(1), "logs", node.container()).output();
    }
}
