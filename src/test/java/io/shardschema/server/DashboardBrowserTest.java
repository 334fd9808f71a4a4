package io.shardschema.server;

import io.shardschema.testing.Cli;
import io.shardschema.testing.RunnerProcess;
import io.shardschema.testing.TestFleet;
import io.shardschema.testing.TestServers;
import io.shardschema.testing.TestTools;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The dashboard in a real headless Chromium, against `serve --run` on a real catalog with a rollout in progress:
 * version 1 done except a drifted shard, version 2 an online change waiting for approval. The test reads what the
 * page shows, types the token, clicks Approve on one shard's waiting change and watches its phase move on.
 * Screenshots are kept in target/browser-artifacts.
 */
class DashboardBrowserTest {
    private static final String TOKEN = "browser-test-token";
    private static final Path ARTIFACTS = Path.of("target", "browser-artifacts");

    @Test
    void theDashboardShowsTheRolloutAndApprovesAWaitingOnlineChange() throws Exception {
        TestTools.ensurePtOsc();
        TestTools.ensureChromium();
        TestFleet fleet = TestFleet.create(TestServers.shared(), "browser", 6);
        fleet.set("apiToken", TOKEN);
        fleet.registerAll();
        fleet.execute("ALTER TABLE `" + fleet.schemas.get(5) + "`.t ADD COLUMN extra INT");
        fleet.addVersion("t", "ADD COLUMN c INT");
        assertThat(Cli.run(fleet.configFile, "run").exit()).as("shard 6 drifted").isEqualTo(3);
        Cli.Result online = Cli.run(fleet.configFile, "version", "add", "--type", "pt-osc", "--auto-cutover",
                "--table", "t", "--command", "ADD COLUMN d INT");
        assertThat(online.exit()).as(online.all()).isZero();

        RunnerProcess serve = RunnerProcess.command(fleet, "serve", "serve", "--port", "0", "--run");
        WebDriver browser = null;
        try {
            String base = serve.awaitServing() + "/";
            // The runner prepares every online task up to the approval gate.
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).until(() ->
                    fleet.count("SELECT COUNT(*) FROM `" + fleet.prefix + "_catalog`.online WHERE phase = 'awaiting approval'") == 5);
            browser = chromium();
            WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));

            browser.get(base);
            wait.until(d -> d.findElements(By.cssSelector("#versions tr[data-version]")).size() == 2);
            assertThat(cell(browser, 1, "done")).isEqualTo("5");
            assertThat(cell(browser, 1, "failed")).isEqualTo("1");
            assertThat(cell(browser, 2, "waiting")).isEqualTo("5");
            assertThat(cell(browser, 2, "blocked")).isEqualTo("1");
            assertThat(browser.findElement(By.tagName("main")).getText())
                    .contains("6 shards").contains("Drifted").contains(fleet.shardName(6) + " at version 1");
            assertThat(browser.findElement(By.id("runners")).getText()).as("serve --run's runner, idle at the gate")
                    .containsPattern("Runners: \\S+ \\(0 of 8 workers busy\\)");
            screenshot(browser, "fleet.png");

            // The version's grid: the drifted shard stands out, with a retry button in the list below.
            browser.get(base + "#/version/1");
            wait.until(d -> d.findElements(By.cssSelector("#grid a")).size() == 6);
            assertThat(browser.findElement(By.cssSelector("#grid a[data-shard='6']")).getAttribute("data-state"))
                    .isEqualTo("drifted");
            assertThat(browser.findElements(By.cssSelector("#grid a[data-state='done']"))).hasSize(5);
            assertThat(browser.findElement(By.cssSelector("#grid a[data-shard='6']")).getAttribute("title"))
                    .startsWith(fleet.shardName(6) + ": drifted");
            assertThat(browser.findElement(By.tagName("main")).getText()).contains("Failed at this version").contains("drifted")
                    .contains(fleet.serverKey());
            browser.get(base + "#/version/2?filter=failed&page=0");
            wait.until(d -> d.findElements(By.cssSelector("#grid a")).size() == 1);
            assertThat(browser.findElement(By.cssSelector("#grid a")).getAttribute("data-state")).isEqualTo("blocked");
            browser.get(base + "#/version/2");
            wait.until(d -> d.findElements(By.cssSelector("#grid a[data-state='waiting']")).size() == 5);
            assertThat(browser.findElement(By.id("phases")).getText()).contains("5 awaiting approval");
            screenshot(browser, "version.png");

            // Approve shard 1's waiting change from its page; the page refreshes itself as the phase moves on.
            WebElement token = browser.findElement(By.id("token"));
            token.sendKeys(TOKEN, Keys.TAB);
            browser.get(base + "#/shard/1");
            wait.until(d -> phase(d).equals("awaiting approval"));
            assertThat(browser.findElement(By.cssSelector("main h2")).getText())
                    .isEqualTo("Shard 1: " + fleet.schemas.get(0) + "@" + fleet.serverKey());
            assertThat(browser.findElement(By.id("runs")).getText()).contains("applied").contains("ADD COLUMN c INT");
            browser.findElement(By.cssSelector("#online button.approve")).click();
            wait.until(d -> d.findElement(By.id("message")).getText().contains("approved on 1 started task(s)"));
            new WebDriverWait(browser, Duration.ofSeconds(60)).until(d -> phase(d).equals("completed"));
            wait.until(d -> d.findElement(By.id("shard-state")).getText().startsWith("At version 2, ready"));
            screenshot(browser, "shard.png");

            assertThat(fleet.column("SELECT CONCAT(shardId, ':', version) FROM `" + fleet.prefix
                    + "_catalog`.shards WHERE shardId IN (1, 2) ORDER BY shardId"))
                    .as("only the approved shard went on").containsExactly("1:2", "2:1");
        } finally {
            if (browser != null) {
                browser.quit();
            }
            serve.kill();
        }
    }

    private static WebDriver chromium() throws Exception {
        ChromeOptions options = new ChromeOptions();
        options.setBinary("/usr/bin/chromium");
        // This machine's network is closed: no background connections, no component updates.
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=1280,900",
                "--user-data-dir=" + Files.createTempDirectory("chromium-profile").toAbsolutePath());
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File("/usr/bin/chromedriver")).usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }

    private static String cell(WebDriver browser, int version, String state) {
        return browser.findElement(By.cssSelector("#versions tr[data-version='" + version + "'] td.count-" + state)).getText();
    }

    private static String phase(WebDriver browser) {
        List<WebElement> cells = browser.findElements(By.cssSelector("#online tr[data-online-version='2'] td.phase"));
        return cells.isEmpty() ? "" : cells.get(0).getText();
    }

    private static void screenshot(WebDriver browser, String name) throws Exception {
        Files.createDirectories(ARTIFACTS);
        File shot = ((org.openqa.selenium.TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), ARTIFACTS.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }
}
