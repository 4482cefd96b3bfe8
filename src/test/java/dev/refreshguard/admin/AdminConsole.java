package dev.refreshguard.admin;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.openqa.selenium.By;
import org.openqa.selenium.ElementClickInterceptedException;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TimeoutException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import dev.refreshguard.harness.ConsoleBrowser;
import dev.refreshguard.harness.DistributionServer;
import dev.refreshguard.harness.KeycloakServer;

/**
 * Keycloak 26.7.3's admin console as an admin clicks through it. Locators are the console's own data-testid
 * attributes, element ids and ARIA labels; visible English text only where the console offers nothing else
 * (listbox options, toast messages, event details).
 */
final class AdminConsole {

    private final KeycloakServer server;
    private final ConsoleBrowser browser;
    private final WebDriver driver;
    private final WebDriverWait wait;

    AdminConsole(KeycloakServer server, ConsoleBrowser browser) {
        this.server = server;
        this.browser = browser;
        this.driver = browser.driver();
        this.wait = browser.await();
    }

    /** The master realm's login page, then the console's home. */
    void logIn() {
        driver.get(server.baseUrl() + "/admin/master/console/");
        visible(By.id("username")).sendKeys(DistributionServer.ADMIN);
        driver.findElement(By.id("password")).sendKeys(DistributionServer.ADMIN_PASSWORD);
        browser.snap("login-page");
        driver.findElement(By.id("kc-login")).click();
        visible(By.cssSelector("[data-testid='nav-item-realms']"));
        browser.snap("logged-in");
    }

    /** Manage realms → search by name → the realm's link: the sidebar then manages that realm. */
    void openRealm(String realm) {
        clickable(By.cssSelector("[data-testid='nav-item-realms']")).click();
        WebElement search = visible(By.cssSelector("input[aria-label='Search']"));
        search.sendKeys(realm, Keys.ENTER);
        clickable(By.cssSelector("a[href='#/" + realm + "']")).click();
        visible(By.cssSelector("[data-testid='nav-item-realm-settings'][href='#/" + realm + "/realm-settings']"));
        browser.snap("realm-opened");
    }

    /**
     * Realm settings → Events → Event listeners: add one by typing its id and picking it, then Save. The realm's
     * current listeners are waited for first: the form fills them in when its data arrives, and a pick made before
     * that would be overwritten.
     */
    void addEventListener(String listener, List<String> current) {
        clickable(By.cssSelector("[data-testid='nav-item-realm-settings']")).click();
        clickable(By.cssSelector("[data-testid='rs-realm-events-tab']")).click();
        clickable(By.cssSelector("[data-testid='rs-event-listeners-tab']")).click();
        visible(By.cssSelector("[data-testid='saveEventListenerBtn']"));
        current.forEach(existing -> visible(chip(existing)));
        WebElement typeahead = visible(By.cssSelector("#eventsListeners input[role='combobox']"));
        typeahead.sendKeys(listener);
        clickable(By.xpath("//*[@role='option'][normalize-space()='" + listener + "']")).click();
        visible(chip(listener));
        // The multi-select stays open after a pick and would cover the Save button: close it with its toggle (Escape
        // in the text field would also drop the pick).
        clickable(By.cssSelector("#eventsListeners button[aria-label='Menu toggle']")).click();
        wait.until(ExpectedConditions.invisibilityOfElementLocated(By.cssSelector("[role='listbox']")));
        visible(chip(listener));
        browser.snap("event-listener-chosen");
        clickable(By.cssSelector("[data-testid='saveEventListenerBtn']")).click();
        toast("Event listener has been updated.");
        visible(chip(listener));
        browser.snap("event-listeners-saved");
    }

    /**
     * Realm settings → Events → User events settings: Save events on, then Save. Should the console reload the
     * settings meanwhile (it refreshes the realm after the listener save), the tab and switch are chosen again.
     */
    void saveUserEvents() {
        By tab = By.cssSelector("[data-testid='rs-events-tab']");
        By toggle = By.cssSelector("[data-testid='eventsEnabled']");
        browser.await().ignoring(StaleElementReferenceException.class).until(d -> {
            if (!"true".equals(d.findElement(tab).getAttribute("aria-selected"))) {
                d.findElement(tab).click();
                return false;
            }
            if (!d.findElement(toggle).isSelected()) {
                // The checkbox itself is visually hidden; its label is the switch an admin clicks.
                d.findElement(By.cssSelector("label[for='eventsEnabled-switch']")).click();
                try {
                    new WebDriverWait(d, Duration.ofSeconds(5)).until(ExpectedConditions.elementToBeSelected(toggle));
                } catch (TimeoutException e) {
                    return false;
                }
            }
            return d.findElement(By.cssSelector("[data-testid='save-user']")).isEnabled();
        });
        browser.snap("save-events-on");
        clickable(By.cssSelector("[data-testid='save-user']")).click();
        toast("Successfully saved configuration");
        browser.snap("user-events-saved");
    }

    /** Events → User events: the table of the realm's stored events. */
    void openUserEvents() {
        clickable(By.cssSelector("[data-testid='nav-item-events']")).click();
        visible(By.cssSelector("table[aria-label='Events']"));
        browser.snap("user-events");
    }

    /**
     * Expands the first row of the given event type and returns the texts of that row and its details, once the
     * details list holds a term {@code key} with the description {@code value}.
     */
    EventRow expandEvent(String type, String key, String value) {
        By row = By.xpath("//table[@aria-label='Events']//tr[td[normalize-space()='" + type + "']]");
        WebElement first = visible(row);
        WebElement toggle = first.findElement(By.cssSelector("button[aria-label='Details']"));
        if (!"true".equals(toggle.getAttribute("aria-expanded"))) {
            toggle.click();
        }
        WebElement details = visible(By.xpath("//dl[contains(@class,'keycloak_eventsection_details')]"
                + "[.//dt[normalize-space()='" + key + "']/following-sibling::dd[normalize-space()='" + value + "']]"));
        browser.snap("event-details");
        Map<String, String> pairs = new LinkedHashMap<>();
        for (WebElement group : details.findElements(By.xpath("./*[dt][dd]"))) {
            pairs.put(group.findElement(By.tagName("dt")).getText().strip(), group.findElement(By.tagName("dd")).getText().strip());
        }
        List<String> cells = first.findElements(By.tagName("td")).stream().map(WebElement::getText).map(String::strip).toList();
        return new EventRow(cells, pairs);
    }

    /** Realm settings → Client policies → Profiles → the profile's name: its page lists its executors. */
    void openClientProfile(String profile) {
        clickable(By.cssSelector("[data-testid='nav-item-realm-settings']")).click();
        clickTab(By.cssSelector("[data-testid='rs-clientPolicies-tab']"));
        clickTab(By.cssSelector("[data-testid='rs-policies-clientProfiles-tab']"));
        // Keycloak's global profiles fill the first page: search for the realm's own.
        visible(By.xpath("//input[@aria-label='Search' or @placeholder='Search']")).sendKeys(profile, Keys.ENTER);
        clickable(By.linkText(profile)).click();
        visible(By.cssSelector("[data-testid='executors-list-row']"));
        browser.snap("client-profile");
    }

    /**
     * On a profile's page, the executor's link → its form, filled in once the stored configuration has arrived
     * ({@code loadedField} shows {@code loadedValue}): text fields typed over, list fields picked, then Save.
     * Returns nothing: the caller waits for the console's success or error notification.
     */
    void editExecutor(String executor, String loadedField, String loadedValue, Map<String, String> texts, Map<String, String> lists) {
        clickable(By.xpath("//*[@data-testid='editExecutor'][normalize-space()='" + executor + "']")).click();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id(loadedField), loadedValue));
        fill(texts, lists);
        browser.snap("executor-filled");
        clickable(By.cssSelector("[data-testid='addExecutor-saveBtn']")).click();
    }

    /**
     * Realm settings → the declarative tab {@code tab} (only there with the feature declarative-ui). The console fills
     * the form from the realm's stored tab component when its request returns: callers wait for a loaded value, and
     * {@link #saveRealmTab} checks the typed values once more right before Save.
     */
    void openRealmTab(String tab) {
        // A fresh page load: the form then reads the stored component anew, and the request below is this page's own.
        driver.navigate().refresh();
        clickable(By.cssSelector("[data-testid='nav-item-realm-settings']")).click();
        clickTab(By.xpath("//*[@role='tab'][normalize-space()='" + tab + "']"));
        visible(By.cssSelector("[data-testid='save']"));
        browser.snap("realm-tab-" + tab);
    }

    /** Realm settings: the names of its tabs, also those scrolled out of the tab bar. */
    List<String> realmSettingsTabs() {
        clickable(By.cssSelector("[data-testid='nav-item-realm-settings']")).click();
        visible(By.cssSelector("[data-testid='rs-general-tab']"));
        browser.snap("realm-settings-tabs");
        return driver.findElements(By.cssSelector("[role='tab']")).stream().map(t -> t.getAttribute("textContent").strip()).toList();
    }

    /** On a declarative tab: text fields typed over, list fields picked, checked once more, then Save. */
    void saveRealmTab(Map<String, String> texts, Map<String, String> lists) {
        fill(texts, lists);
        texts.forEach((field, value) -> wait.until(ExpectedConditions.attributeToBe(textField(field), "value", value)));
        lists.forEach((field, value) -> wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id(field), value)));
        // Back to the top, where the tab bar shows whose settings these are (the screenshot in docs/).
        ((JavascriptExecutor) driver).executeScript("document.querySelectorAll('*').forEach(e => { if (e.scrollTop) e.scrollTop = 0; });"
                + " window.scrollTo(0, 0);");
        browser.snap("realm-tab-filled");
        clickable(By.cssSelector("[data-testid='save']")).click();
    }

    /** The value a text field of a form shows, once the form has been filled in. */
    String fieldValue(String field) {
        return textField(field).getAttribute("value");
    }

    /** Until a text field shows {@code value}: the form has been filled in from what is stored. */
    void awaitFieldValue(String field, String value) {
        wait.until(ExpectedConditions.attributeToBe(textField(field), "value", value));
    }

    private void fill(Map<String, String> texts, Map<String, String> lists) {
        texts.forEach((field, value) -> {
            WebElement input = textField(field);
            input.sendKeys(Keys.chord(Keys.CONTROL, "a"), Keys.DELETE);
            input.sendKeys(value);
            wait.until(ExpectedConditions.attributeToBe(input, "value", value));
        });
        lists.forEach((field, value) -> {
            clickable(By.id(field)).click();
            clickable(By.xpath("//*[@role='option'][normalize-space()='" + value + "']")).click();
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id(field), value));
        });
    }

    private WebElement textField(String field) {
        return visible(By.xpath("//input[@data-testid='" + field + "' or @name='config." + field + "']"));
    }

    /** Clients → search the client id → its link → Settings → Save, as an admin saves a client unchanged. */
    void saveClient(String realm, String clientId, String clientUuid) {
        clickable(By.cssSelector("[data-testid='nav-item-clients']")).click();
        WebElement search = visible(By.cssSelector("input[aria-label='Search']"));
        search.sendKeys(clientId, Keys.ENTER);
        clickable(By.cssSelector("a[href='#/" + realm + "/clients/" + clientUuid + "/settings']")).click();
        visible(By.cssSelector("[data-testid='settings-save']"));
        browser.snap("client-settings");
        clickable(By.cssSelector("[data-testid='settings-save']")).click();
        toast("Client successfully updated");
        browser.snap("client-saved");
    }

    /** The text of the console's notification that contains {@code fragment} (no quotes in it), once it shows. */
    String notification(String fragment) {
        return visible(By.xpath("//*[@data-testid='global-alerts']//*[contains(normalize-space(),'" + fragment + "')]")).getText();
    }

    /** The text of the first notification the console shows, whatever it says. */
    String anyNotification() {
        return visible(By.xpath("//*[@data-testid='global-alerts']//*[contains(@class,'alert__title')]")).getText();
    }

    /** The cells of an event row (expand toggle, time, user, type, IP, client) and its details as shown. */
    record EventRow(List<String> cells, Map<String, String> details) {
    }

    private static By chip(String listener) {
        return By.xpath("//*[@id='eventsListeners']//*[contains(@class,'chip__text')][normalize-space()='" + listener + "']");
    }

    private void toast(String message) {
        visible(By.xpath("//*[@data-testid='global-alerts']//*[contains(normalize-space(),'" + message + "')]"));
    }

    private WebElement visible(By by) {
        return wait.until(ExpectedConditions.visibilityOfElementLocated(by));
    }

    /** Realm settings has more tabs than fit: the later ones sit behind the tab bar's scroll button until scrolled to. */
    private WebElement scrolledIntoView(By by) {
        // Present, not visible: a tab scrolled out of the tab bar counts as hidden until it is scrolled to.
        WebElement element = wait.until(ExpectedConditions.presenceOfElementLocated(by));
        ((JavascriptExecutor) driver).executeScript("arguments[0].scrollIntoView({block: 'center', inline: 'center'});", element);
        return clickable(by);
    }

    /**
     * Clicks a tab once nothing overlays it: the tab bar's scroll buttons may still cover it while it scrolls. A tab
     * beyond the bar's right edge (the last ones, e.g. a declarative tab) is brought in with the bar's forward button,
     * as an admin does.
     */
    private void clickTab(By by) {
        wait.ignoring(ElementClickInterceptedException.class).ignoring(StaleElementReferenceException.class)
                .until(d -> {
                    WebElement tab = scrolledIntoView(by);
                    WebElement forward = d.findElement(By.cssSelector("button[aria-label='Scroll forward']"));
                    Boolean beyond = (Boolean) ((JavascriptExecutor) d).executeScript(
                            "return arguments[0].getBoundingClientRect().right > document.documentElement.clientWidth;", tab);
                    if (Boolean.TRUE.equals(beyond) && forward.isEnabled()) {
                        forward.click();
                        return false;
                    }
                    tab.click();
                    return true;
                });
    }

    private WebElement clickable(By by) {
        return wait.until(ExpectedConditions.elementToBeClickable(by));
    }
}
