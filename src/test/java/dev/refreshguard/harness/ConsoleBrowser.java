package dev.refreshguard.harness;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Headless Chromium from the Debian packages {@code chromium} and {@code chromium-driver}, driven by Selenium.
 * Register it with {@code @RegisterExtension}: it keeps a numbered screenshot of every step the test names and,
 * when a test fails, a screenshot and the page source, all under {@code target/console-screenshots/}.
 * Nothing is ever downloaded: the driver and browser paths are given, so Selenium Manager is never asked.
 */
public final class ConsoleBrowser implements AfterTestExecutionCallback, AfterAllCallback {

    public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    /** Generous: the console is a large single-page app and the machine's cores are shared with a real server. */
    public static final Duration WAIT = Duration.ofSeconds(90);

    private final Path screenshots;
    private WebDriver driver;
    private Path profile;
    private String prefix = "console";
    private int step;

    public ConsoleBrowser() {
        this.screenshots = Path.of(System.getProperty("project.basedir", "."), "target", "console-screenshots");
    }

    /**
     * The browser, started on first use. Where the Debian packages are missing it installs them with apt-get when
     * running as root, else fails (never skips) with one line saying what to install.
     */
    public synchronized WebDriver driver() {
        if (driver == null) {
            driver = start();
        }
        return driver;
    }

    public WebDriverWait await() {
        return new WebDriverWait(driver(), WAIT);
    }

    /** Names the screenshots of the test that runs next, e.g. after its method. */
    public void prefix(String name) {
        this.prefix = name;
        this.step = 0;
    }

    /** A screenshot of the page as it is now, numbered in the order of the journey. */
    public Path snap(String what) {
        step++;
        Path file = screenshots.resolve(String.format("%s-%02d-%s.png", prefix, step, what));
        write(file, ((TakesScreenshot) driver()).getScreenshotAs(OutputType.BYTES));
        return file;
    }

    public Path screenshots() {
        return screenshots;
    }

    @Override
    public void afterTestExecution(ExtensionContext context) {
        Optional<Throwable> failure = context.getExecutionException();
        if (failure.isEmpty() || driver == null) {
            return;
        }
        String name = "FAILED-" + context.getRequiredTestClass().getSimpleName() + "-" + context.getRequiredTestMethod().getName();
        try {
            write(screenshots.resolve(name + ".png"), ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
            write(screenshots.resolve(name + ".html"), ("<!-- " + driver.getCurrentUrl() + " -->\n" + driver.getPageSource())
                    .getBytes(StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            // The browser may be what failed; the test's own failure is the one to report.
            failure.get().addSuppressed(e);
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        close();
    }

    public synchronized void close() {
        if (driver != null) {
            driver.quit();
            driver = null;
        }
        if (profile != null) {
            try (Stream<Path> files = Files.walk(profile)) {
                files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            } catch (IOException e) {
                // a leftover temporary profile is harmless
            }
            profile = null;
        }
    }

    private WebDriver start() {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            installChromium();
        }
        // Selenium skips its downloading manager when the driver path is set.
        System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
        try {
            profile = Files.createTempDirectory("rg-chromium-");
            Files.createDirectories(screenshots);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + profile, "--window-size=1400,1000", "--lang=en-US");
        return new ChromeDriver(service, options);
    }

    private static final String INSTALL = "apt-get install -y chromium chromium-driver";

    /** The Debian packages, installed as root; one line on the console either way. */
    private static void installChromium() {
        if (!"root".equals(System.getProperty("user.name")) || !Files.isExecutable(Path.of("/usr/bin/apt-get"))) {
            throw new AssertionError(CHROMIUM + " or " + CHROMEDRIVER + " is missing: the admin-console test needs the Debian "
                    + "packages chromium and chromium-driver (as root: " + INSTALL + ")");
        }
        System.out.println("[refresh-guard] " + CHROMIUM + " or " + CHROMEDRIVER + " missing: installing the Debian packages"
                + " chromium and chromium-driver (apt-get, as root)");
        Path log = Path.of(System.getProperty("project.basedir", "."), "target", "apt-get-chromium.log");
        for (String step : new String[] {"apt-get update -qq", "DEBIAN_FRONTEND=noninteractive " + INSTALL + " -qq"}) {
            try {
                Files.createDirectories(log.getParent());
                Process process = new ProcessBuilder("sh", "-c", step).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
                if (!process.waitFor(15, java.util.concurrent.TimeUnit.MINUTES) || process.exitValue() != 0) {
                    process.destroyForcibly();
                    throw new AssertionError("`" + step + "` failed (log: " + log + "): the admin-console test needs the Debian "
                            + "packages chromium and chromium-driver");
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    private static void write(Path file, byte[] bytes) {
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
