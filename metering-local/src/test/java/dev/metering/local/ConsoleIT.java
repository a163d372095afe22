package dev.metering.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.kafka.ClearOfUtcMidnight;
import dev.metering.kafka.KafkaTestSupport;
import dev.metering.records.UsageEvent;
import dev.metering.schemas.Topics;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web console in a real browser (Debian's headless Chromium and its chromedriver, through
 * Selenium) against the whole system in this JVM: an admin signs in, creates a key and sees its
 * secret once, sees usage appear in the chart, sees the key suspended when it reaches its hard
 * limit, and finds that in the audit log. Screenshots go to target/console-screenshots.
 */
@ExtendWith(ClearOfUtcMidnight.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleIT {

  private static final Path SCREENSHOTS = Path.of("target", "console-screenshots");
  private static final Path DOWNLOADS = Path.of("target", "console-downloads").toAbsolutePath();
  private static final Duration PATIENCE = Duration.ofSeconds(60);
  private static LocalSystem system;
  private static WebDriver browser;
  private static WebDriverWait await;
  /** The key the steps share: created in the browser, then used up. */
  private static String keyId;
  private static final String keyName = "console-capped";

  @BeforeAll
  static void start() throws Exception {
    system = LocalSystem.start(Map.of("METERING_HTTP_PORT", "0", "ADMIN_HTTP_PORT", "0", "GATEWAY_HTTP_PORT", "0",
        "SMTP_PORT", "0", "ALERT_HTTP_PORT", "0"), false);
    Files.createDirectories(SCREENSHOTS);
    Files.createDirectories(DOWNLOADS);
    ChromeOptions options = new ChromeOptions();
    options.setBinary(executable("CHROMIUM_BINARY", "/usr/bin/chromium"));
    // a laptop's screen; no sandbox, as the tests may run as root in a container
    options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1366,900",
        "--disable-gpu", "--lang=en-US");
    options.setExperimentalOption("prefs", Map.of("download.default_directory", DOWNLOADS.toString(),
        "download.prompt_for_download", false));
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(new File(executable("CHROMEDRIVER", "/usr/bin/chromedriver"))).build();
    browser = new ChromeDriver(service, options);
    await = new WebDriverWait(browser, PATIENCE, Duration.ofMillis(200));
    // the page re-renders its tables when it refreshes itself: a row found may be replaced before it is read
    await.ignoring(org.openqa.selenium.StaleElementReferenceException.class);
  }

  /** The browser's binaries: Debian's packages, which .ci/run installs when they are missing. */
  private static String executable(String variable, String fallback) {
    String path = System.getenv().getOrDefault(variable, fallback);
    assertTrue(Files.isExecutable(Path.of(path)), path + " is missing: apt-get install chromium chromium-driver"
        + " (.ci/run does), or set " + variable);
    return path;
  }

  @AfterAll
  static void stop() {
    if (browser != null) {
      browser.quit();
    }
    if (system != null) {
      system.close();
    }
  }

  @Test
  @Order(1)
  void shouldServeTheConsoleWithAPolicyThatRunsOnlyItsOwnScript() throws Exception {
    HttpResponse<String> page = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create(system.adminUrl() + "/console/")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, page.statusCode());
    String policy = page.headers().firstValue("Content-Security-Policy").orElseThrow();
    assertTrue(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"), policy);
    assertEquals("DENY", page.headers().firstValue("X-Frame-Options").orElseThrow());
    assertTrue(page.body().contains("<script src=\"console.js\""), "the script comes from the jar, no CDN");
    assertFalse(java.util.regex.Pattern.compile("(src|href)=\"(https?:)?//").matcher(page.body()).find(),
        "nothing from other origins");
  }

  @Test
  @Order(2)
  void shouldSignInWithAnAdminKeyKeptInTheTabOnly() throws Exception {
    browser.get(system.adminUrl() + "/console/");
    type(By.id("admin-key"), "sk-mtr-notavalidkey");
    browser.findElement(By.cssSelector("#sign-in-form button")).click();
    await.until(ExpectedConditions.textToBePresentInElementLocated(By.id("sign-in-error"), "not accepted"));
    screenshot("01-sign-in-refused");

    type(By.id("admin-key"), system.adminKey());
    browser.findElement(By.cssSelector("#sign-in-form button")).click();
    await.until(ExpectedConditions.visibilityOfElementLocated(By.id("tab-usage")));
    await.until(ExpectedConditions.textToBePresentInElementLocated(By.id("org"), "org-default"));
    assertEquals(system.adminKey(), script("return sessionStorage.getItem('metering.adminKey')"));
    assertEquals("", script("return document.cookie"));
    assertEquals(0L, script("return localStorage.length"));
    assertFalse(browser.getCurrentUrl().contains(system.adminKey()));
    assertEquals("", browser.findElement(By.id("admin-key")).getAttribute("value"), "the field is cleared");
    screenshot("02-usage-before-traffic");
  }

  @Test
  @Order(3)
  void shouldCreateAKeyAndShowItsSecretOnlyOnce() throws Exception {
    open("keys");
    browser.findElement(By.cssSelector("#create-key summary")).click();
    type(By.id("new-key-name"), keyName);
    type(By.id("new-key-limit"), "3000");
    browser.findElement(By.id("new-key-hard")).click();
    browser.findElement(By.cssSelector("#create-key-form button[type=submit]")).click();

    WebElement secret = await.until(ExpectedConditions.visibilityOfElementLocated(By.id("secret-value")));
    String shown = secret.getText();
    assertTrue(shown.startsWith("sk-mtr-"), shown);
    screenshot("03-secret-shown-once");
    browser.findElement(By.id("secret-done")).click();
    await.until(ExpectedConditions.invisibilityOfElementLocated(By.id("secret-dialog")));
    assertFalse(browser.getPageSource().contains(shown), "the secret leaves the page when the dialog closes");

    WebElement row = await.until(d -> d.findElements(By.cssSelector("#keys-table tbody tr")).stream()
        .filter(r -> r.getText().contains(keyName)).findFirst().orElse(null));
    keyId = row.getAttribute("data-key-id");
    assertTrue(row.getText().contains("active") && row.getText().contains("3,000"), row.getText());
    assertEquals(shown.substring(0, 11), system.adminClient().apiKeys().get(keyId).keyPrefix(),
        "the secret shown is the key's");
    screenshot("04-keys");
  }

  @Test
  @Order(4)
  void shouldShowUsageInTheChartAndSuspendTheKeyAtItsHardLimit() throws Exception {
    // 4 calls of 1,000 tokens: the third reaches the hard limit of 3,000
    try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(system.bootstrapServers())) {
      for (String model : List.of("claude-sonnet-4-5", "claude-haiku-4-5", "claude-sonnet-4-5", "claude-haiku-4-5")) {
        UsageEvent event = UsageEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setOrgId("org-default")
            .setApiKeyId(keyId).setModel(model).setInputTokens(800).setOutputTokens(200)
            .setCacheCreationInputTokens(0).setCacheReadInputTokens(0).setTimestamp(System.currentTimeMillis())
            .setGatewayId("console-it").build();
        producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(), keyId, Topics.USAGE_EVENTS.encode(event)));
      }
    }

    open("usage");
    // no reload: the page refreshes itself, or on the Refresh button
    await.until(d -> {
      d.findElement(By.id("refresh")).click();
      return d.findElement(By.id("total-tokens")).getText().equals("4,000");
    });
    await.until(d -> d.findElements(By.cssSelector("#daily-chart rect[data-series]")).size() == 2);
    List<WebElement> bars = browser.findElements(By.cssSelector("#daily-chart rect[data-series]"));
    assertEquals(List.of("claude-haiku-4-5", "claude-sonnet-4-5"),
        bars.stream().map(b -> b.getAttribute("data-series")).sorted().toList());
    assertEquals(List.of("2000", "2000"), bars.stream().map(b -> b.getAttribute("data-value")).toList());
    assertTrue(browser.findElement(By.id("as-of")).getText().startsWith("Data as of "));
    long projected = Long.parseLong(browser.findElement(By.id("projected")).getText().replaceAll("[^0-9]", ""));
    assertTrue(projected >= 4_000, "the month's end at its daily rate: " + projected);
    assertTrue(browser.findElement(By.cssSelector("#top-keys tbody")).getText().contains(keyName));
    await.until(d -> !d.findElements(By.cssSelector("#hourly-chart rect[data-series]")).isEmpty());
    // the CSV download, as a user gets it: a click, and a file in the download directory
    browser.findElement(By.id("usage-csv")).click();
    Path downloaded = DOWNLOADS.resolve(browser.findElement(By.id("usage-csv")).getAttribute("download"));
    await.until(d -> Files.exists(downloaded));
    String csv = Files.readString(downloaded);
    assertTrue(csv.startsWith("date,model,tokens,cost_usd\r\n"), csv);
    assertTrue(csv.contains(",claude-haiku-4-5,2000,"), csv);
    screenshot("05-usage-by-model");

    new org.openqa.selenium.support.ui.Select(browser.findElement(By.id("usage-group"))).selectByValue("api_key_id");
    await.until(d -> d.findElements(By.cssSelector("#daily-chart rect[data-series]")).stream()
        .anyMatch(b -> keyName.equals(b.getAttribute("data-series"))));
    screenshot("06-usage-by-key");

    open("keys");
    String rowScript = "const row = document.querySelector(\"#keys-table tbody tr[data-key-id='" + keyId + "']\");"
        + " return row && row.querySelector('.status.suspended') ? row.innerText : null";
    String row = await.until(d -> {
      d.findElement(By.id("refresh")).click();
      return (String) script(rowScript);
    });
    assertTrue(row.contains("133.3%"), "4,000 of 3,000 tokens: " + row);
    String nextMonth = java.time.LocalDate.now(java.time.ZoneOffset.UTC).withDayOfMonth(1).plusMonths(1).toString();
    assertTrue(row.contains("suspended") && row.contains(nextMonth + " 00:00:00Z"), "suspended until the month ends: " + row);
    screenshot("07-key-suspended");
  }

  @Test
  @Order(5)
  void shouldFindTheSuspensionInTheAuditLog() throws Exception {
    open("audit");
    browser.findElement(By.cssSelector("#audit-types input[value=key_suspended]")).click();
    browser.findElement(By.cssSelector("#audit-types input[value=limit_breached]")).click();
    browser.findElement(By.cssSelector("#audit-form button[type=submit]")).click();
    // read in one script: the page re-renders the table when it refreshes itself
    String rowsScript = "return [...document.querySelectorAll('#audit-table tbody tr[data-event-type]')]"
        + ".map(r => [r.dataset.eventType, r.innerText])";
    List<String> wanted = List.of("key_suspended", "limit_breached");
    await.until(d -> {
      List<String> types = auditRows(rowsScript).stream().map(r -> r.get(0)).toList();
      return types.containsAll(wanted) && wanted.containsAll(types);
    });
    for (List<String> row : auditRows(rowsScript)) {
      assertTrue(wanted.contains(row.get(0)), row.toString());
      assertTrue(row.get(1).contains(keyName), row.toString());
    }
    screenshot("08-audit-log");
  }

  @Test
  @Order(6)
  void shouldLiftTheSuspensionWhenTheLimitIsRaisedAboveUsage() throws Exception {
    open("keys");
    click(By.cssSelector("button[aria-label='edit " + keyName + "']"));
    type(By.id("edit-limit"), "10000");
    type(By.id("edit-cost"), "5");
    screenshot("09-edit-limit");
    browser.findElement(By.cssSelector("#edit-form button[type=submit]")).click();
    String activeRow = "const row = document.querySelector(\"#keys-table tbody tr[data-key-id='" + keyId + "']\");"
        + " return row && row.querySelector('.status.active') ? row.innerText : null";
    String row = await.until(d -> {
      d.findElement(By.id("refresh")).click();
      return (String) script(activeRow);
    });
    assertTrue(row.contains("10,000 tokens or $5.00") && row.contains("40.0%"), row);
    assertEquals("5.00", system.adminClient().apiKeys().get(keyId).maxCostPerMonth(), "a dollar limit, exactly");
  }

  @Test
  @Order(7)
  void shouldCreateAndDeleteAnAlertRuleWithAConfirmation() throws Exception {
    open("alerts");
    browser.findElement(By.cssSelector("#create-alert summary")).click();
    type(By.id("new-alert-name"), "half of the budget");
    new org.openqa.selenium.support.ui.Select(browser.findElement(By.id("new-alert-key"))).selectByValue(keyId);
    type(By.id("new-alert-threshold"), "50");
    type(By.id("new-alert-email"), "platform@example.com");
    browser.findElement(By.cssSelector("#create-alert-form button[type=submit]")).click();
    By deleteButton = By.cssSelector("button[aria-label='delete rule half of the budget']");
    await.until(ExpectedConditions.elementToBeClickable(deleteButton));
    assertEquals(1, system.adminClient().alerts().list().stream().filter(r -> keyId.equals(r.keyId())).count());
    screenshot("10-alerts");

    click(deleteButton);
    await.until(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-dialog")));
    browser.findElement(By.id("confirm-yes")).click();
    await.until(ExpectedConditions.invisibilityOfElementLocated(deleteButton));
    assertEquals(0, system.adminClient().alerts().list().stream().filter(r -> keyId.equals(r.keyId())).count());
  }

  @Test
  @Order(8)
  void shouldSetTheOrganisationsBudgetAndARuleOnIt() throws Exception {
    open("budget");
    await.until(ExpectedConditions.textToBePresentInElementLocated(By.id("budget-status"), "No budget"));
    type(By.id("budget-limit"), "50000000");
    type(By.id("budget-cost-limit"), "1000");
    browser.findElement(By.id("budget-hard")).click();
    browser.findElement(By.cssSelector("#budget-form button[type=submit]")).click();
    await.until(ExpectedConditions.textToBePresentInElementLocated(By.id("budget-status"), "Within budget (hard"));
    var budget = system.adminClient().budget().get();
    assertEquals(50_000_000L, budget.maxTokensPerMonth());
    assertEquals("1000.00", budget.maxCostPerMonth(), "dollars, exactly");
    assertTrue(budget.hardLimit());
    String bars = browser.findElement(By.id("budget-tokens-bar")).getText() + " | "
        + browser.findElement(By.id("budget-cost-bar")).getText();
    assertTrue(bars.contains("% of 50,000,000 tokens") && bars.contains("% of $1000.00"), bars);
    assertTrue(browser.findElement(By.id("budget-updated")).getText().startsWith("Last changed by "));
    screenshot("12-budget");

    open("alerts");
    browser.findElement(By.cssSelector("#create-alert summary")).click();
    type(By.id("new-alert-name"), "budget at 80%");
    new org.openqa.selenium.support.ui.Select(browser.findElement(By.id("new-alert-key"))).selectByValue("");
    type(By.id("new-alert-threshold"), "80");
    type(By.id("new-alert-email"), "finance@example.com");
    browser.findElement(By.cssSelector("#create-alert-form button[type=submit]")).click();
    await.until(ExpectedConditions.textToBePresentInElementLocated(By.id("alerts-table"), "the organisation's budget"));
    assertEquals(1, system.adminClient().alerts().list().stream()
        .filter(r -> r.keyId() == null && r.name().equals("budget at 80%")).count());
  }

  @Test
  @Order(9)
  void shouldRevokeOnlyAfterConfirmationThenSignOut() throws Exception {
    open("keys");
    By revoke = By.cssSelector("button[aria-label='revoke " + keyName + "']");
    click(revoke);
    await.until(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-dialog")));
    browser.findElement(By.cssSelector("#confirm-dialog .cancel")).click();
    assertEquals("active", system.adminClient().apiKeys().get(keyId).status(), "cancelled: nothing happens");

    click(revoke);
    await.until(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-dialog")));
    screenshot("11-revoke-confirmation");
    browser.findElement(By.id("confirm-yes")).click();
    await.until(ExpectedConditions.visibilityOfElementLocated(
        By.cssSelector("#keys-table tbody tr[data-key-id='" + keyId + "'] .status.revoked")));
    assertEquals("revoked", system.adminClient().apiKeys().get(keyId).status());

    browser.findElement(By.id("sign-out")).click();
    await.until(ExpectedConditions.visibilityOfElementLocated(By.id("sign-in")));
    assertNull(script("return sessionStorage.getItem('metering.adminKey')"), "signing out forgets the key");
  }

  @SuppressWarnings("unchecked")
  private static List<List<String>> auditRows(String rowsScript) {
    return (List<List<String>>) script(rowsScript);
  }

  /** Goes to a section of the console by its navigation link, as a user does. */
  private static void open(String tab) {
    browser.findElement(By.cssSelector("nav a[data-tab=" + tab + "]")).click();
    await.until(ExpectedConditions.visibilityOfElementLocated(By.id("tab-" + tab)));
  }

  /**
   * Clicks what {@code target} finds once it is clickable, finding it again if the page re-rendered
   * it in between (a row of a table that refreshes itself): a stale element is never clicked.
   */
  private static void click(By target) {
    await.until(d -> {
      WebElement element = ExpectedConditions.elementToBeClickable(target).apply(d);
      if (element == null) {
        return false;
      }
      element.click();
      return true;
    });
  }

  private static void type(By field, String text) {
    WebElement input = await.until(ExpectedConditions.elementToBeClickable(field));
    input.clear();
    input.sendKeys(text);
  }

  private static Object script(String source) {
    return ((JavascriptExecutor) browser).executeScript(source);
  }

  private static void screenshot(String name) throws Exception {
    File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
    Files.copy(shot.toPath(), SCREENSHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
  }
}
