package dev.refreshguard.alert;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.ServerSetupTest;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;

import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.ConsoleBrowser;
import dev.refreshguard.harness.Http.Reply;
import dev.refreshguard.harness.KeycloakServer;
import dev.refreshguard.harness.Ledger;
import dev.refreshguard.harness.Oidc;
import dev.refreshguard.harness.RealServer;
import dev.refreshguard.harness.TestRealm;

/**
 * The user's one-click path in headless Chromium (issue 26, points 3 and 4): the user signs in to the account
 * console, opens refresh-guard's page of their sign-ins, ends one with its button; then follows "This wasn't me" from
 * a reuse letter and confirms. Screenshots go to target/console-screenshots/ (user-path-*), and the two pages the docs
 * show are copied to docs/images/.
 */
@ExtendWith(RealServer.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UserPathJourneyIT {

    @RegisterExtension
    static final GreenMailExtension SMTP = new GreenMailExtension(ServerSetupTest.SMTP.dynamicPort())
            .withPerMethodLifecycle(false);

    @RegisterExtension
    final ConsoleBrowser browser = new ConsoleBrowser();

    private static final Pattern LINK = Pattern.compile("(https?://\\S+/login-actions/action-token\\?\\S+)");

    private KeycloakServer server;
    private TestRealm realm;

    @BeforeAll
    void realm(KeycloakServer server) {
        this.server = server;
        realm = TestRealm.guarded(server, "user-path", Map.of("refresh.guard.notify.user", "true"));
        realm.update(rep -> rep.put("displayName", "Example"));
        realm.sendMailThrough(SMTP.getSmtp().getPort());
    }

    @Test
    void theUserEndsOneSignInOnTheirPageThenEverythingWithThisWasntMe() {
        browser.prefix("user-path");
        WebDriver driver = browser.driver();
        Oidc spa = realm.spa();
        Oidc other = realm.oidc("other");
        Reply spaLogin = ok(spa.password("alice", "alice"));
        ok(spa.refresh(spaLogin.text("refresh_token")));
        Reply offline = ok(other.password("alice", "alice", "scope", "openid offline_access"));
        String spaFamily = family(spaLogin);
        String offlineFamily = family(offline);

        // Not signed in: the page says so and links to the account console, where the user signs in.
        String page = server.baseUrl() + "/realms/" + realm.name + "/refresh-guard/account";
        driver.get(page);
        browser.await().until(ExpectedConditions.visibilityOfElementLocated(By.id("rg-sign-in")));
        browser.snap("not-signed-in");
        driver.findElement(By.id("rg-account-link")).click();
        browser.await().until(ExpectedConditions.visibilityOfElementLocated(By.id("username"))).sendKeys("alice");
        driver.findElement(By.id("password")).sendKeys("alice");
        driver.findElement(By.id("kc-login")).click();
        browser.await().until(ExpectedConditions.urlContains("/realms/" + realm.name + "/account"));
        browser.await().until(d -> !d.getCurrentUrl().contains("login-actions"));
        browser.snap("account-console");

        driver.get(page);
        browser.await().until(ExpectedConditions.visibilityOfElementLocated(By.id("rg-families")));
        assertThat(driver.findElements(By.cssSelector("tr.rg-family[data-family='" + spaFamily + "']"))).hasSize(1);
        assertThat(driver.findElements(By.cssSelector("tr.rg-family[data-family='" + offlineFamily + "']"))).hasSize(1);
        assertThat(driver.findElement(By.cssSelector("tr[data-family='" + offlineFamily + "'] .rg-client")).getText()).isEqualTo("other");
        copy(browser.snap("families"), "user-families.png");

        driver.findElement(By.id("rg-revoke-" + spaFamily)).click();
        browser.await().until(ExpectedConditions.numberOfElementsToBe(By.cssSelector("tr[data-family='" + spaFamily + "']"), 0));
        assertThat(driver.findElements(By.cssSelector("tr[data-family='" + offlineFamily + "']"))).hasSize(1);
        browser.snap("after-revoke");
        assertThat(String.valueOf(Ledger.of(server).family(spaFamily).get("state"))).isEqualTo("REVOKED");
        assertThat(String.valueOf(Ledger.of(server).family(offlineFamily).get("state"))).isEqualTo("ACTIVE");

        // A reuse on a new sign-in of spa: the letter's "This wasn't me", opened in the browser and confirmed.
        String first = ok(spa.password("alice", "alice")).text("refresh_token");
        ok(spa.refresh(first));
        Oidc.expectReuseDetected(spa.refresh(first));
        ReceivedLetter letter = Await.value(Duration.ofSeconds(60), "the reuse letter to alice", () ->
                ReceivedLetter.of(SMTP.getReceivedMessages()).stream().filter(l -> l.isTo("alice@example.com")).findFirst().orElse(null));
        Matcher link = LINK.matcher(letter.text());
        assertThat(link.find()).isTrue();
        driver.get(link.group(1));
        browser.await().until(ExpectedConditions.visibilityOfElementLocated(By.id("kc-info-message")));
        assertThat(driver.findElement(By.id("kc-info-message")).getText()).contains("Sign out everywhere?");
        browser.snap("wasnt-me-confirm");
        driver.findElement(By.cssSelector("#kc-info-message a")).click();
        browser.await().until(ExpectedConditions.textToBePresentInElementLocated(By.id("kc-info-message"),
                "You have been signed out everywhere"));
        copy(browser.snap("wasnt-me-done"), "user-wasnt-me.png");
        assertThat(String.valueOf(Ledger.of(server).family(offlineFamily).get("state"))).isEqualTo("REVOKED");
        assertThat(realm.admin.userSessionCount(realm.name, realm.userIds.get("alice"))).isZero();

        // The account page now has nothing to show: the browser's own SSO session ended too.
        driver.get(page);
        browser.await().until(ExpectedConditions.visibilityOfElementLocated(By.id("rg-sign-in")));
    }

    private static Reply ok(Reply reply) {
        assertThat(reply.status()).as("%s", reply).isEqualTo(200);
        return reply;
    }

    private static String family(Reply login) {
        return Oidc.claims(login.text("refresh_token")).get("rg_fid").asText();
    }

    /** The docs' screenshots: docs/images/ of the checkout. */
    private static void copy(Path screenshot, String name) {
        try {
            Path images = Path.of(System.getProperty("project.basedir", "."), "docs", "images");
            Files.createDirectories(images);
            Files.copy(screenshot, images.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

}
