package dev.metering.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import dev.metering.api.query.CurrentPeriod;
import dev.metering.api.query.ReportBucket;
import dev.metering.keys.Secrets;
import dev.metering.api.openapi.OpenApiAssertions;
import dev.metering.client.AdminApiException;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import dev.metering.client.AdminClient;
import dev.metering.api.admin.CreateApiKey;
import dev.metering.client.AdminClient.UpdateApiKey;
import dev.metering.api.admin.AlertInfo;
import dev.metering.api.admin.OrgBudgetInfo;
import dev.metering.api.admin.OrgCurrentPeriod;
import dev.metering.api.admin.ApiKeyInfo;
import dev.metering.api.admin.AuditLogEntry;
import dev.metering.api.admin.KeyUsage;

import dev.metering.api.admin.UsageSummary;
import dev.metering.config.Env;
import dev.metering.json.Json;
import dev.metering.kafka.ClearOfUtcMidnight;
import dev.metering.kafka.KafkaBroker;
import dev.metering.kafka.KafkaTestSupport;
import dev.metering.records.AlertRule;
import dev.metering.records.ApiKey;
import dev.metering.records.ApiKeyStatus;
import dev.metering.records.UsageEvent;
import dev.metering.schemas.Topics;
import dev.metering.schemas.UsageLimits;
import dev.metering.webhooks.WebhookSigning;
import dev.metering.stream.MeteringApp;
import dev.metering.stream.MeteringConfig;
import dev.metering.stream.pricing.PriceBook;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Clock;
import dev.metering.records.AuditRecord;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * admin-api end to end: a real broker, metering-stream and admin-api in this JVM, driven through
 * the Java admin client as an organisation's admin would.
 */
@ExtendWith(ClearOfUtcMidnight.class)
class AdminApiIT {

  private static final String ALICE_KEY = Secrets.generate();
  private static final String QUERY_TOKEN = Secrets.generate();
  private static final String SIGNING_KEY = "admin-it-webhook-signing-key-0123456789";
  private static final String GATEWAY_A = "gw-token-a-0123456789";
  private static final String GATEWAY_B = "gw-token-b-0123456789";
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @RegisterExtension
  static final KafkaBroker kafka = new KafkaBroker(3);
  private static MeteringApp metering;
  private static AdminApi api;
  private static AdminClient alice;
  private static AdminClient bob;
  private static String baseUrl;

  @BeforeAll
  static void start() throws Exception {
    metering = MeteringApp.start(MeteringConfig.from(new Env(Map.of(
        "KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(),
        "METERING_APPLICATION_ID", "admin-it-" + UUID.randomUUID(),
        "METERING_STATE_DIR", Files.createTempDirectory("admin-it").toString(),
        "METERING_HTTP_PORT", "0",
        "METERING_QUERY_TOKEN", QUERY_TOKEN,
        "METERING_ROCKSDB_MEMORY_MB", "32"))), PriceBook.bundled());
    Map<String, String> env = new java.util.HashMap<>(Map.of(
        "ADMIN_BOOTSTRAP_ORG_ID", "org-a",
        "ADMIN_BOOTSTRAP_ADMIN_EMAIL", "alice@a.example",
        "METERING_BOOTSTRAP_ADMIN_KEY", ALICE_KEY,
        "ADMIN_INGEST_ACK_TIMEOUT", "2s",
        "GATEWAY_TOKENS", "gw-a:org-a:" + GATEWAY_A + ", gw-b:org-b|org-c:" + GATEWAY_B));
    env.putAll(commonEnv());
    api = AdminApi.start(AdminConfig.from(new Env(env)), Clock.systemUTC());
    baseUrl = "http://127.0.0.1:" + api.port();
    alice = AdminClient.create(baseUrl, ALICE_KEY);
    bob = AdminClient.create(baseUrl, api.provisionAdminKey("org-b", "bob@b.example"));
    assertTrue(metering.awaitRunning(Duration.ofSeconds(60)));
  }

  @AfterAll
  static void stop() {
    if (api != null) {
      api.close();
    }
    if (metering != null) {
      metering.close();
    }
  }

  @Test
  void shouldShowTheSecretOnceAndStoreOnlyItsHash() {
    ApiKeyInfo created = alice.apiKeys().create(CreateApiKey.named("ci").maxTokensPerMonth(10_000_000L).hardLimit(true));

    assertTrue(Secrets.wellFormed(created.key()), created.key());
    assertTrue(created.key().startsWith("sk-mtr-"));
    assertTrue(created.key().startsWith(created.keyPrefix()));
    assertNull(alice.apiKeys().get(created.id()).key(), "the secret is shown only at creation");
    ApiKey stored = latestApiKey(created.id());
    assertEquals(Secrets.hash(created.key()), stored.getSecretHash());
    assertFalse(new String(rawApiKeyRecord(created.id()), StandardCharsets.ISO_8859_1).contains(created.key()),
        "the secret itself is nowhere in api-keys");
    assertEquals(List.of("messages:read", "messages:write"), created.permissions());
    assertEquals("alice@a.example", created.createdBy());
  }

  @Test
  void shouldReturnEachWriteToTheNextReadAndAuditEachKindOfChange() {
    ApiKeyInfo key = alice.apiKeys().create(CreateApiKey.named("team-x"));

    ApiKeyInfo updated = alice.apiKeys().update(key.id(), UpdateApiKey.changes()
        .permissions("messages:read").maxTokensPerMonth(5_000L).hardLimit(true).name("team-x-renamed"));
    ApiKeyInfo read = alice.apiKeys().get(key.id());

    assertEquals(updated, read);
    assertEquals(List.of("messages:read"), read.permissions());
    assertEquals(5_000L, read.maxTokensPerMonth());
    assertEquals("team-x-renamed", read.name());
    List<String> types = auditOf(alice, key.id()).stream().map(AuditLogEntry::eventType).toList();
    assertEquals(List.of("key_updated", "limit_changed", "permission_changed", "key_created"), types,
        "each change is its own event, newest first");
  }

  @Test
  void shouldReportUsageEqualToWhatWasProduced() throws Exception {
    ApiKeyInfo key = alice.apiKeys().create(CreateApiKey.named("usage-key"));
    ApiKeyInfo other = alice.apiKeys().create(CreateApiKey.named("usage-key-2"));
    long expected = 0;
    try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(kafka.bootstrapServers())) {
      for (int i = 0; i < 50; i++) {
        String id = i % 2 == 0 ? key.id() : other.id();
        UsageEvent event = UsageEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setOrgId("org-a")
            .setApiKeyId(id).setModel("claude-sonnet-4-5").setInputTokens(100 + i).setOutputTokens(10)
            .setCacheCreationInputTokens(0).setCacheReadInputTokens(5).setTimestamp(System.currentTimeMillis())
            .setGatewayId("gw").build();
        expected += 115 + i;
        producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(), id,
            Topics.USAGE_EVENTS.encode(event)));
      }
    }
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    long total = expected;

    KafkaTestSupport.await("usage of both keys", Duration.ofSeconds(60), () -> {
      try {
        return alice.usage().byKey(today, today).stream()
            .filter(u -> u.apiKeyId().equals(key.id()) || u.apiKeyId().equals(other.id()))
            .mapToLong(KeyUsage::totalTokens).sum() == total;
      } catch (AdminApiException.Unavailable notYet) {
        return false;
      }
    });
    KeyUsage first = alice.usage().byKey(today, today).stream().filter(u -> u.apiKeyId().equals(key.id()))
        .findFirst().orElseThrow();
    assertEquals("usage-key", first.keyName());
    assertTrue(first.estimatedCost().signum() > 0);
    KafkaTestSupport.await("org total", Duration.ofSeconds(30), () -> alice.usage().retrieve(today, today).totalTokens() >= total);
    UsageSummary org = alice.usage().retrieve(today, today);
    assertEquals(total, org.totalTokens());
    assertNotNull(org.asOf());
    assertTrue(bob.usage().byKey(today, today).stream().noneMatch(u -> u.apiKeyId().equals(key.id())),
        "org-b sees none of org-a's usage");
    // issue 14: reports are streamed through admin-api rather than read whole into its heap
    String report = "usage_report?bucket_width=1d&group_by=api_key_id&starting_at=" + today + "T00:00:00Z";
    HttpResponse<String> viaAdmin = rawGet("/v1/organizations/" + report, "Bearer " + ALICE_KEY);
    HttpResponse<String> direct = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metering.httpPort()
        + "/v1/orgs/org-a/" + report)).header("Authorization", "Bearer " + QUERY_TOKEN).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, viaAdmin.statusCode(), viaAdmin.body());
    JsonNode passed = Json.mapper().readTree(viaAdmin.body());
    JsonNode original = Json.mapper().readTree(direct.body());
    assertEquals(original.get("data"), passed.get("data"));
    assertTrue(passed.get("data").get(0).get("results").size() >= 2);

    // one key's report, by model: its own usage only, and only for its own organisation
    String keyReport = "/v1/organizations/api_keys/" + key.id() + "/usage_report?bucket_width=1h&group_by=model"
        + "&starting_at=" + today + "T00:00:00Z";
    JsonNode hours = Json.mapper().readTree(rawGet(keyReport, "Bearer " + ALICE_KEY).body()).get("data");
    long keyTokens = 0;
    for (JsonNode hour : hours) {
      for (JsonNode result : hour.get("results")) {
        assertEquals("claude-sonnet-4-5", result.get("model").asText());
        keyTokens += result.get("usage").get("total_tokens").asLong();
      }
    }
    assertEquals(first.totalTokens(), keyTokens);
    Instant midnight = today.atStartOfDay().toInstant(ZoneOffset.UTC);
    List<ReportBucket> viaClient = new ArrayList<>();
    alice.usage().keyReport(key.id(), midnight, null, "1h", "model").forEach(viaClient::add);
    assertEquals(keyTokens, viaClient.stream().flatMap(b -> b.results().stream())
        .mapToLong(r -> r.usage().totalTokens()).sum());
    assertThrows(AdminApiException.NotFound.class,
        () -> bob.usage().keyReport(key.id(), midnight, null, "1h", null).iterator().hasNext(),
        "another org's key is not found");

    // the key's month against its limits, and where it is heading
    CurrentPeriod month = alice.apiKeys().currentPeriod(key.id());
    assertEquals(first.totalTokens(), month.usage().totalTokens(), "all its usage is today, in this month");
    assertNull(month.limitTokens());
    assertNull(month.limitCostMicros());
    assertTrue(month.projected().totalTokens() >= month.usage().totalTokens());
    assertThrows(AdminApiException.NotFound.class, () -> bob.apiKeys().currentPeriod(key.id()));
    OrgCurrentPeriod orgMonth = alice.usage().currentPeriod();
    assertEquals("org-a", orgMonth.orgId());
    assertTrue(orgMonth.usage().totalTokens() >= total, "the month holds today's usage");
    assertTrue(orgMonth.projected().totalTokens() >= orgMonth.usage().totalTokens());
    assertEquals(0, bob.usage().currentPeriod().usage().totalTokens(), "org-b's month has none of org-a's usage");
  }

  @Test
  void shouldRefuseToActOnARevokedKey() {
    ApiKeyInfo key = alice.apiKeys().create(CreateApiKey.named("to-revoke"));

    ApiKeyInfo revoked = alice.apiKeys().revoke(key.id());

    assertEquals("revoked", revoked.status());
    assertEquals("revoked", alice.apiKeys().get(key.id()).status());
    assertThrows(AdminApiException.Conflict.class, () -> alice.apiKeys().revoke(key.id()));
    assertThrows(AdminApiException.Conflict.class, () -> alice.apiKeys().update(key.id(), UpdateApiKey.changes().name("x")));
    assertThrows(AdminApiException.Conflict.class, () -> alice.apiKeys().rotate(key.id(), Duration.ZERO));
    List<String> ids = new ArrayList<>();
    alice.apiKeys().list("revoked").forEach(k -> ids.add(k.id()));
    assertTrue(ids.contains(key.id()));
  }

  @Test
  void shouldRotateKeepingTheIdWithTheOldSecretValidOnlyForTheGracePeriod() {
    String carol = api.provisionAdminKey("org-a", "carol@a.example");
    AdminClient asCarol = AdminClient.create(baseUrl, carol);
    String id = findKeyIdBySecret(carol);

    ApiKeyInfo rotated = alice.apiKeys().rotate(id, Duration.ofMinutes(5));

    assertEquals(id, rotated.id(), "rotation keeps the key id (and so its usage and limit)");
    assertNotEquals(carol, rotated.key());
    assertNotNull(rotated.previousKeyExpiresAt());
    assertNotNull(AdminClient.create(baseUrl, rotated.key()).apiKeys().get(id), "the new secret works");
    assertNotNull(asCarol.apiKeys().get(id), "the old secret works during the grace period");

    ApiKeyInfo again = alice.apiKeys().rotate(id, Duration.ZERO);

    assertThrows(AdminApiException.Unauthenticated.class, () -> AdminClient.create(baseUrl, rotated.key()).apiKeys().get(id));
    assertThrows(AdminApiException.Unauthenticated.class, () -> asCarol.apiKeys().get(id));
    assertNotNull(AdminClient.create(baseUrl, again.key()).apiKeys().get(id));
  }

  @Test
  void shouldAnswerEachAuthenticationFailureWithItsCode() throws Exception {
    ApiKeyInfo regular = alice.apiKeys().create(CreateApiKey.named("not-admin"));
    ApiKeyInfo aliceKey = alice.apiKeys().create(CreateApiKey.named("private"));

    assertEquals(401, rawGet("/v1/organizations/api_keys", null).statusCode());
    assertThrows(AdminApiException.Unauthenticated.class, () -> AdminClient.create(baseUrl, Secrets.generate()).apiKeys().get("x"));
    assertThrows(AdminApiException.PermissionDenied.class, () -> AdminClient.create(baseUrl, regular.key()).apiKeys().get(regular.id()));
    assertThrows(AdminApiException.NotFound.class, () -> bob.apiKeys().get(aliceKey.id()), "another org's key is unknown");
    assertThrows(AdminApiException.NotFound.class, () -> bob.apiKeys().revoke(aliceKey.id()));
    assertEquals("active", alice.apiKeys().get(aliceKey.id()).status());
    HttpResponse<String> bad = rawGet("/v1/organizations/api_keys", "Basic abc");
    assertEquals(401, bad.statusCode());
    assertEquals("authentication_error", Json.mapper().readTree(bad.body()).at("/error/type").asText());
  }

  @Test
  void shouldKeepOrganisationsApart() {
    ApiKeyInfo aliceKey = alice.apiKeys().create(CreateApiKey.named("a-only"));
    ApiKeyInfo bobKey = bob.apiKeys().create(CreateApiKey.named("b-only"));

    Set<String> bobSees = new HashSet<>();
    bob.apiKeys().list(null).forEach(k -> bobSees.add(k.id()));
    Set<String> aliceSees = new HashSet<>();
    alice.apiKeys().list(null).forEach(k -> aliceSees.add(k.id()));

    assertTrue(bobSees.contains(bobKey.id()));
    assertFalse(bobSees.contains(aliceKey.id()));
    assertFalse(aliceSees.contains(bobKey.id()));
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    List<AuditLogEntry> bobAudit = new ArrayList<>();
    bob.auditLogs().list(today, today).forEach(bobAudit::add);
    assertFalse(bobAudit.isEmpty());
    assertTrue(bobAudit.stream().noneMatch(e -> aliceKey.id().equals(e.apiKeyId()) || e.actor().startsWith("alice")));
  }

  @Test
  void shouldCreateListAndDeleteAlertRulesWithValidation() {
    ApiKeyInfo key = alice.apiKeys().create(CreateApiKey.named("alerted").maxTokensPerMonth(1000L));

    AlertInfo rule = alice.alerts().create("80 percent", key.id(), 80, "ops@a.example",
        "https://hooks.a.example/services/T00/secret");
    AdminApiException.InvalidRequest zero = assertThrows(AdminApiException.InvalidRequest.class,
        () -> alice.alerts().create("bad", key.id(), 0, "ops@a.example", null));
    AdminApiException.InvalidRequest noTarget = assertThrows(AdminApiException.InvalidRequest.class,
        () -> alice.alerts().create("bad", key.id(), 50, null, null));
    AdminApiException.InvalidRequest badEmail = assertThrows(AdminApiException.InvalidRequest.class,
        () -> alice.alerts().create("bad", key.id(), 50, "not-an-email", null));
    AdminApiException.InvalidRequest otherOrgKey = assertThrows(AdminApiException.InvalidRequest.class,
        () -> bob.alerts().create("bad", key.id(), 50, "b@b.example", null));

    assertEquals("threshold_percent", zero.field());
    assertEquals("notification_email", noTarget.field());
    assertEquals("notification_email", badEmail.field());
    assertEquals("key_id", otherOrgKey.field());
    assertEquals("https://hooks.a.example/...", rule.webhookUrl(), "webhook URLs are not shown back");
    assertTrue(alice.alerts().list().stream().anyMatch(a -> a.id().equals(rule.id())));
    AlertRule stored = latestRule(rule.id());
    assertEquals(80, stored.getThresholdPercent());
    assertTrue(bob.alerts().list().stream().noneMatch(a -> a.id().equals(rule.id())));
    assertThrows(AdminApiException.NotFound.class, () -> bob.alerts().delete(rule.id()));

    alice.alerts().delete(rule.id());

    assertTrue(alice.alerts().list().stream().noneMatch(a -> a.id().equals(rule.id())));
    assertTrue(ruleTombstoned(rule.id()), "deleted with a tombstone");
    List<String> types = auditOf(alice, key.id()).stream().map(AuditLogEntry::eventType).toList();
    assertEquals(List.of("alert_deleted", "alert_created", "key_created"), types);
  }

  @Test
  void shouldGiveEachWebhookRuleItsOwnSigningSecretShownOnceAndRotatable() throws Exception {
    // issue 14: one HMAC secret signed every org's webhooks, so any tenant could forge another's alerts
    ApiKeyInfo key = alice.apiKeys().create(CreateApiKey.named("signed").maxTokensPerMonth(1000L));
    AlertInfo first = alice.alerts().create("hook 1", key.id(), 50, null, "https://hooks.a.example/one");
    AlertInfo second = alice.alerts().create("hook 2", key.id(), 60, null, "https://hooks.a.example/two");
    AlertInfo emailOnly = alice.alerts().create("mail", key.id(), 70, "ops@a.example", null);

    AlertInfo rotated = alice.alerts().rotateSecret(first.id());

    WebhookSigning signing = new WebhookSigning(SIGNING_KEY);
    assertTrue(first.webhookSecret().startsWith("whsec_"), first.webhookSecret());
    assertEquals(signing.secretFor(first.id(), 1), first.webhookSecret(), "the secret alert-service signs with");
    assertNotEquals(first.webhookSecret(), second.webhookSecret());
    assertNull(emailOnly.webhookSecret());
    assertNotEquals(first.webhookSecret(), rotated.webhookSecret());
    assertEquals(signing.secretFor(first.id(), 2), rotated.webhookSecret());
    assertTrue(alice.alerts().list().stream().allMatch(a -> a.webhookSecret() == null), "never shown again");
    assertEquals(2, latestRule(first.id()).getWebhookSecretVersion());
    assertFalse(new String(rawRecord(Topics.ALERT_RULES.name(), first.id()), StandardCharsets.ISO_8859_1)
        .contains(rotated.webhookSecret().substring(6, 20)), "the secret is derived, never stored");
    assertThrows(AdminApiException.NotFound.class, () -> bob.alerts().rotateSecret(first.id()));
    assertThrows(AdminApiException.Conflict.class, () -> alice.alerts().rotateSecret(emailOnly.id()));
    String body = "{\"id\":\"ntf_1\"}";
    String signature = WebhookSigning.signature(rotated.webhookSecret(), "ntf_1", 1_764_000_000L, body);
    assertTrue(WebhookSigning.verify(rotated.webhookSecret(), "ntf_1", "1764000000", signature, body, 1_764_000_100L));
    assertFalse(WebhookSigning.verify(second.webhookSecret(), "ntf_1", "1764000000", signature, body, 1_764_000_100L),
        "another rule's secret cannot verify, so cannot forge");
    assertFalse(WebhookSigning.verify(rotated.webhookSecret(), "ntf_1", "1764000000", signature, body, 1_764_000_400L),
        "too old");
    assertEquals(List.of("alert_secret_rotated"), auditOf(alice, key.id()).stream().map(AuditLogEntry::eventType)
        .filter(t -> t.equals("alert_secret_rotated")).toList());
  }

  @Test
  void shouldRefuseWebhookTargetsInsideTheNetwork() throws Exception {
    // issue 14: webhooks could target loopback, private and link-local addresses: an SSRF probe per rule
    ApiKeyInfo key = alice.apiKeys().create(CreateApiKey.named("ssrf"));
    for (String url : List.of("https://127.0.0.1:8081/v1/orgs/org-b/usage", "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.7/", "https://192.168.1.1/", "https://[::1]/", "https://0.0.0.0/", "https://localhost/x",
        "http://hooks.a.example/plain-http", "https://user:pw@hooks.a.example/")) {
      AdminApiException.InvalidRequest refused = assertThrows(AdminApiException.InvalidRequest.class,
          () -> alice.alerts().create("probe", key.id(), 50, null, url), url);
      assertEquals("webhook_url", refused.field(), url);
    }
  }

  @Test
  void shouldRefuseMoreAlertRulesThanOneKeyMayHave() throws Exception {
    // issue 13: a key's rules are one stored value in metering-stream; unbounded, they could outgrow a record
    ApiKeyInfo key = alice.apiKeys().create(CreateApiKey.named("many rules").maxTokensPerMonth(1000L));
    for (int i = 0; i < UsageLimits.MAX_ALERT_RULES_PER_KEY - 4; i++) {
      alice.alerts().create("rule " + i, key.id(), 1 + i % 100, "ops@a.example", null);
    }
    // the last four places, raced for by twelve requests at once: metering-stream ignores rules past the cap
    int created = Races.succeeded(12, i -> alice.alerts().create("racer " + i, key.id(), 50, "ops@a.example", null));
    assertEquals(4, created);

    AdminApiException.Conflict refused = assertThrows(AdminApiException.Conflict.class,
        () -> alice.alerts().create("one too many", key.id(), 50, "ops@a.example", null));

    assertTrue(refused.getMessage().contains("already has " + UsageLimits.MAX_ALERT_RULES_PER_KEY), refused.getMessage());
  }

  @Test
  void shouldNameTheFieldOfEveryInvalidRequest() throws Exception {
    assertEquals("nickname", invalidField("/v1/organizations/api_keys", "{\"name\":\"x\",\"nickname\":\"y\"}"));
    assertEquals("name", invalidField("/v1/organizations/api_keys", "{}"));
    assertEquals("max_tokens_per_month", invalidField("/v1/organizations/api_keys", "{\"name\":\"x\",\"max_tokens_per_month\":-5}"));
    assertEquals("permissions", invalidField("/v1/organizations/api_keys", "{\"name\":\"x\",\"permissions\":[\"root\"]}"));
    assertEquals("hard_limit", invalidField("/v1/organizations/api_keys", "{\"name\":\"x\",\"hard_limit\":\"yes\"}"));
    HttpResponse<String> notJson = rawPost("/v1/organizations/api_keys", "{name");
    assertEquals(400, notJson.statusCode());
    assertEquals("status", Json.mapper().readTree(rawGet("/v1/organizations/api_keys?status=maybe", "Bearer " + ALICE_KEY)
        .body()).at("/error/field").asText());
    assertEquals("start_date", Json.mapper().readTree(rawGet("/v1/organizations/usage?start_date=yesterday&end_date=2026-11-01",
        "Bearer " + ALICE_KEY).body()).at("/error/field").asText(), "usage errors keep the parameter metering-stream names");
    assertEquals("event_types", Json.mapper().readTree(rawGet(
        "/v1/organizations/audit_logs?start_date=2026-11-01&end_date=2026-11-02&event_types=nope", "Bearer " + ALICE_KEY)
        .body()).at("/error/field").asText());
    assertEquals(404, rawGet("/v1/organizations/api_keys/key_nope", "Bearer " + ALICE_KEY).statusCode());
    // issue 14: each of these answered 500
    assertEquals("event_types", invalidGetField(
        "/v1/organizations/audit_logs?start_date=2026-11-01&end_date=2026-11-02&event_types=key_created,key_created"));
    assertEquals("start_date", invalidGetField("/v1/organizations/audit_logs?start_date=%2B300000000-01-01&end_date=2026-11-02"));
    assertEquals("start_date", invalidGetField("/v1/organizations/usage?start_date=%2B300000000-01-01&end_date=2026-11-02"));
    assertEquals("starting_at", invalidGetField("/v1/organizations/usage_report?starting_at=%2B300000000-01-01T00:00:00Z"));
    assertEquals("created_before", invalidGetField("/v1/organizations/api_keys?created_before=%2B300000000-01-01T00:00:00Z"));
    assertEquals("max_tokens_per_month", invalidField("/v1/organizations/api_keys",
        "{\"name\":\"x\",\"max_tokens_per_month\":92233720368547758}"));
    // dollar limits are decimal strings, exact to the micro-dollar: never a float, never beyond the bound
    for (String cost : List.of("12.5", "\"12.1234567\"", "\"-1\"", "\"0\"", "\"1e3\"", "\"1000000000.000001\"", "\"\"")) {
      assertEquals("max_cost_per_month", invalidField("/v1/organizations/api_keys",
          "{\"name\":\"x\",\"max_cost_per_month\":" + cost + "}"), cost);
    }
  }

  @Test
  void shouldKeepADollarLimitExactlyAndChangeOrRemoveItAudited() {
    ApiKeyInfo key = alice.apiKeys().create(CreateApiKey.named("budgeted").maxCostPerMonth("12.5").hardLimit(true));
    assertEquals("12.50", key.maxCostPerMonth());
    assertNull(key.maxTokensPerMonth());
    assertEquals("0.000001", alice.apiKeys().update(key.id(), AdminClient.UpdateApiKey.changes().maxCostPerMonth("0.000001"))
        .maxCostPerMonth(), "a micro-dollar is kept exactly");
    ApiKeyInfo removed = alice.apiKeys().update(key.id(), AdminClient.UpdateApiKey.changes().maxCostPerMonth(null)
        .maxTokensPerMonth(1_000L));
    assertNull(removed.maxCostPerMonth());
    assertEquals(1_000L, removed.maxTokensPerMonth());
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    List<String> changes = new ArrayList<>();
    alice.auditLogs().list(today, today, "limit_changed").forEach(e -> {
      if (e.apiKeyId().equals(key.id())) {
        changes.add(e.details().get("cost_from") + "->" + e.details().get("cost_to"));
      }
    });
    assertEquals(List.of("0.000001->null", "12.50->0.000001"), changes, "newest first");
  }

  @Test
  void shouldSetChangeAndRemoveTheOrganisationsBudgetAuditedAndScopedToItsOrg() throws Exception {
    OrgBudgetInfo none = bob.budget().get();
    assertNull(none.maxTokensPerMonth());
    assertNull(none.maxCostPerMonth());
    assertFalse(none.hardLimit());
    assertNull(none.updatedBy(), "never set");

    OrgBudgetInfo set = alice.budget().update(AdminClient.UpdateOrgBudget.changes().maxCostPerMonth("250")
        .hardLimit(true));
    assertEquals("250.00", set.maxCostPerMonth());
    assertNull(set.maxTokensPerMonth());
    assertTrue(set.hardLimit());
    assertFalse(set.suspended());
    assertTrue(set.updatedBy().startsWith("alice"), set.updatedBy());
    OrgBudgetInfo both = alice.budget().update(AdminClient.UpdateOrgBudget.changes().maxTokensPerMonth(1_000_000L));
    assertEquals("250.00", both.maxCostPerMonth(), "a field left out stays as it is");
    assertEquals(1_000_000L, both.maxTokensPerMonth());
    assertEquals(both, alice.budget().update(AdminClient.UpdateOrgBudget.changes().hardLimit(true)),
        "no change, no write");
    assertNull(bob.budget().get().maxCostPerMonth(), "another organisation's budget is its own");

    OrgCurrentPeriod period = alice.usage().currentPeriod();
    assertEquals(1_000_000L, period.limitTokens());
    assertEquals(250_000_000L, period.limitCostMicros());
    assertEquals("250.00", period.limitCost());
    assertTrue(period.hardLimit());
    assertFalse(period.suspended());

    AlertInfo orgRule = alice.alerts().create("budget 80%", null, 80, "finance@a.example", null);
    assertNull(orgRule.keyId(), "a rule on the organisation's budget");
    assertTrue(alice.alerts().list().stream().anyMatch(r -> r.id().equals(orgRule.id()) && r.keyId() == null));

    OrgBudgetInfo removed = alice.budget().update(AdminClient.UpdateOrgBudget.changes().maxCostPerMonth(null)
        .maxTokensPerMonth(null).hardLimit(false));
    assertNull(removed.maxCostPerMonth());
    assertNull(removed.maxTokensPerMonth());
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    List<String> changes = new ArrayList<>();
    alice.auditLogs().list(today, today, "budget_changed").forEach(e -> changes.add(e.details().get("from") + "/"
        + e.details().get("cost_from") + "->" + e.details().get("to") + "/" + e.details().get("cost_to")));
    assertEquals(List.of("1000000/250.00->null/null", "null/250.00->1000000/250.00", "null/null->null/250.00"), changes,
        "newest first, one record per change");
    List<AuditLogEntry> bobs = new ArrayList<>();
    bob.auditLogs().list(today, today, "budget_changed").forEach(bobs::add);
    assertTrue(bobs.isEmpty(), "alice's budget is not in bob's log");

    assertEquals("max_cost_per_month", invalidField("/v1/organizations/budget", "{\"max_cost_per_month\":12.5}"));
    assertEquals("max_tokens_per_month", invalidField("/v1/organizations/budget", "{\"max_tokens_per_month\":-1}"));
    assertEquals("hard_limit", invalidField("/v1/organizations/budget", "{\"hard_limit\":null}"));
    assertEquals(401, rawGet("/v1/organizations/budget", null).statusCode());
  }

  /** {@code value} has every required property of {@code schema} and none it does not name, all the way down. */
  @SuppressWarnings("rawtypes")
  private static void assertShaped(Schema schema, JsonNode value, String where) {
    if (schema.getAllOf() != null && schema.getAllOf().size() == 1) {
      schema = (Schema) schema.getAllOf().get(0);
    }
    if (value.isNull()) {
      assertTrue(Boolean.TRUE.equals(schema.getNullable()), where + " is null but not nullable");
    } else if (value.isArray()) {
      for (JsonNode item : value) {
        assertShaped(schema.getItems(), item, where + "[]");
      }
    } else if (value.isObject() && schema.getProperties() != null) {
      Set<String> names = new TreeSet<>();
      value.fieldNames().forEachRemaining(names::add);
      assertTrue(schema.getProperties().keySet().containsAll(names), where + ": " + names + " not all in "
          + schema.getProperties().keySet());
      if (schema.getRequired() != null) {
        assertTrue(names.containsAll(schema.getRequired()), where + ": " + names + " lacks some of " + schema.getRequired());
      }
      for (String name : names) {
        assertShaped((Schema) schema.getProperties().get(name), value.get(name), where + "." + name);
      }
    }
  }

  private static String invalidGetField(String path) throws Exception {
    HttpResponse<String> response = rawGet(path, "Bearer " + ALICE_KEY);
    assertEquals(400, response.statusCode(), path + ": " + response.body());
    return Json.mapper().readTree(response.body()).at("/error/field").asText();
  }

  @Test
  void shouldDocumentEveryRouteInOpenApi() throws Exception {
    String document = rawGet("/openapi.json", null).body();
    OpenAPI parsed = OpenApiAssertions.assertClientReady(document);
    JsonNode doc = Json.mapper().readTree(document);

    for (var route : api.routes()) {
      JsonNode operation = doc.at("/paths/" + route.path().replace("/", "~1") + "/" + route.method().toLowerCase());
      assertFalse(operation.isMissingNode(), route.method() + " " + route.path() + " is documented");
      assertEquals(route.operationId(), operation.get("operationId").asText());
      String concrete = route.path().replaceAll("\\{[^}]+}", "some-id");
      HttpResponse<String> unauthenticated = HTTP.send(HttpRequest.newBuilder(URI.create(baseUrl + concrete))
          .method(route.method(), HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(401, unauthenticated.statusCode(), route.method() + " " + route.path() + " is served and guarded");
    }
    int documented = 0;
    for (JsonNode path : doc.get("paths")) {
      documented += path.size();
    }
    assertEquals(api.routes().size() + 1, documented, "nothing documented that is not served, and the ingest endpoint");
    assertFalse(doc.at("/paths/~1v1~1usage~1events/post").isMissingNode());

    // real answers have exactly the documented shape
    ParseOptions inline = new ParseOptions();
    inline.setResolveFully(true);
    OpenAPI resolved = new OpenAPIV3Parser().readContents(document, null, inline).getOpenAPI();
    assertEquals(parsed.getPaths().keySet(), resolved.getPaths().keySet());
    ApiKeyInfo key = alice.apiKeys().create(CreateApiKey.named("documented").maxTokensPerMonth(1000L));
    alice.alerts().create("documented rule", key.id(), 80, "ops@a.example", null);
    KafkaTestSupport.await("metering-stream to have read the new key (503 until then)", Duration.ofSeconds(30), () -> {
      try {
        return alice.apiKeys().currentPeriod(key.id()) != null;
      } catch (AdminApiException.Unavailable notYet) {
        return false;
      }
    });
    String today = LocalDate.now(ZoneOffset.UTC).toString();
    Map<String, String> answers = new LinkedHashMap<>();
    answers.put("/v1/organizations/api_keys", "/v1/organizations/api_keys?limit=2");
    answers.put("/v1/organizations/api_keys/{api_key_id}", "/v1/organizations/api_keys/" + key.id());
    answers.put("/v1/organizations/alerts", "/v1/organizations/alerts");
    answers.put("/v1/organizations/audit_logs", "/v1/organizations/audit_logs?start_date=" + today + "&end_date=" + today);
    answers.put("/v1/organizations/usage", "/v1/organizations/usage?start_date=" + today + "&end_date=" + today);
    answers.put("/v1/organizations/usage/by_key", "/v1/organizations/usage/by_key?start_date=" + today + "&end_date="
        + today);
    answers.put("/v1/organizations/usage_report", "/v1/organizations/usage_report?starting_at=" + today
        + "T00:00:00Z&group_by=api_key_id");
    answers.put("/v1/organizations/current_period", "/v1/organizations/current_period");
    answers.put("/v1/organizations/api_keys/{api_key_id}/current_period", "/v1/organizations/api_keys/" + key.id()
        + "/current_period");
    answers.put("/v1/organizations/api_keys/{api_key_id}/usage_report", "/v1/organizations/api_keys/" + key.id()
        + "/usage_report?starting_at=" + today + "T00:00:00Z&group_by=model");
    for (Map.Entry<String, String> answer : answers.entrySet()) {
      HttpResponse<String> response = rawGet(answer.getValue(), "Bearer " + ALICE_KEY);
      assertEquals(200, response.statusCode(), answer.getValue() + ": " + response.body());
      assertShaped(resolved.getPaths().get(answer.getKey()).getGet().getResponses().get("200").getContent()
          .get("application/json").getSchema(), Json.mapper().readTree(response.body()), answer.getKey());
    }
    HttpResponse<String> refused = rawGet("/v1/organizations/api_keys?limit=0", "Bearer " + ALICE_KEY);
    assertShaped(resolved.getComponents().getSchemas().get("ErrorResponse"), Json.mapper().readTree(refused.body()),
        "an error");

    String metrics = rawGet("/metrics", null).body();
    assertTrue(metrics.contains("http_server_requests_seconds_bucket{method=\"GET\",route=\"/openapi.json\","
        + "service=\"admin-api\",status=\"200\""), "request latency histograms by route");
    assertTrue(metrics.contains("jvm_gc_pause_seconds") || metrics.contains("jvm_threads_live_threads"), "JVM metrics");
  }

  @Test
  void shouldListTheAuditLogNewestFirstWithActorsAndNoSecrets() {
    ApiKeyInfo key = alice.apiKeys().create(CreateApiKey.named("story"));
    alice.apiKeys().update(key.id(), UpdateApiKey.changes().maxTokensPerMonth(100L));
    ApiKeyInfo rotated = alice.apiKeys().rotate(key.id(), Duration.ZERO);
    alice.apiKeys().revoke(key.id());
    LocalDate today = LocalDate.now(ZoneOffset.UTC);

    List<AuditLogEntry> story = auditOf(alice, key.id());
    List<AuditLogEntry> onlyRevocations = new ArrayList<>();
    alice.auditLogs().list(today, today, "key_revoked").forEach(onlyRevocations::add);

    assertEquals(List.of("key_revoked", "key_rotated", "limit_changed", "key_created"),
        story.stream().map(AuditLogEntry::eventType).toList());
    assertTrue(story.stream().allMatch(e -> e.actor().equals("alice@a.example")));
    assertTrue(onlyRevocations.stream().allMatch(e -> e.eventType().equals("key_revoked")));
    assertTrue(onlyRevocations.stream().anyMatch(e -> key.id().equals(e.apiKeyId())));
    List<ConsumerRecord<byte[], byte[]>> raw = KafkaTestSupport.readAllCommitted(kafka.bootstrapServers(),
        Topics.AUDIT_LOG.name(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    for (ConsumerRecord<byte[], byte[]> record : raw) {
      String text = new String(record.value(), StandardCharsets.ISO_8859_1);
      assertFalse(text.contains(key.key()) || text.contains(rotated.key()) || text.contains(ALICE_KEY),
          "no secret in the audit log");
    }
  }

  @Test
  void shouldShowAnAuditRecordWrittenTwiceOnceAsFirstWrittenOnEveryPage() throws Exception {
    // alert-service writes a delivery's outcome again after a write that timed out yet happened,
    // or after a restart between writing it and committing the delivery: same id, later time
    String dee = api.provisionAdminKey("org-d", "dee@d.example");
    long now = System.currentTimeMillis();
    List<String> written = List.of("aud_it_twice", "aud_it_between", "aud_it_twice", "aud_it_last");
    try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(kafka.bootstrapServers())) {
      for (int i = 0; i < written.size(); i++) {
        AuditRecord record = AuditRecord.newBuilder().setId(written.get(i)).setOrgId("org-d")
            .setTimestamp(now - Duration.ofMinutes(10 - i).toMillis()).setEventType("alert_delivered")
            .setActor("system:alert-service").setDescription("copy written at offset " + i).build();
        producer.send(new ProducerRecord<>(Topics.AUDIT_LOG.name(), "org-d", Topics.AUDIT_LOG.encode(record))).get();
      }
    }
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    List<JsonNode> shown = new ArrayList<>();
    String page = "";
    do {
      JsonNode body = Json.mapper().readTree(rawGet("/v1/organizations/audit_logs?start_date=" + today.minusDays(1)
          + "&end_date=" + today + "&event_types=alert_delivered&limit=1&page=" + page, "Bearer " + dee).body());
      body.get("data").forEach(shown::add);
      page = body.get("has_more").asBoolean() ? body.get("next_page").asText() : null;
    } while (page != null);

    assertEquals(List.of("aud_it_last", "aud_it_between", "aud_it_twice"),
        shown.stream().map(e -> e.get("id").asText()).toList(), "each id once, newest first, one page each");
    assertEquals("copy written at offset 0", shown.get(2).get("description").asText(), "the first written copy");
    List<String> all = new ArrayList<>();
    AdminClient.create(baseUrl, dee).auditLogs().list(today.minusDays(1), today, "alert_delivered")
        .forEach(e -> all.add(e.id()));
    assertEquals(List.of("aud_it_last", "aud_it_between", "aud_it_twice"), all);
  }

  @Test
  void shouldIngestABatchOverHttpAnsweringEachEventOnItsOwn() throws Exception {
    ApiKeyInfo key = alice.apiKeys().create(CreateApiKey.named("http-gateway-key"));
    String batch = """
        {"events": [
          {"event_id": "e1-%1$s", "api_key_id": "%1$s", "model": "claude-haiku-4-5", "input_tokens": 1000, "output_tokens": 100, "request_id": "r1"},
          {"event_id": "e2-%1$s", "api_key_id": "%1$s", "model": "claude-haiku-4-5", "input_tokens": 2000, "output_tokens": 200},
          {"event_id": "e3-%1$s", "api_key_id": "key_unknown", "model": "m", "input_tokens": 1, "output_tokens": 1},
          {"event_id": "e4-%1$s", "api_key_id": "%1$s", "model": "m", "input_tokens": -1, "output_tokens": 1},
          {"api_key_id": "%1$s", "model": "m", "input_tokens": 1, "output_tokens": 1},
          {"event_id": "e6-%1$s", "api_key_id": "%1$s", "model": "m", "input_tokens": 1, "output_tokens": 1, "timestamp": 1000},
          {"event_id": "e7-%1$s", "api_key_id": "%1$s", "model": "m", "input_tokens": 1, "output_tokens": 1, "gateway_id": "gw-b"},
          {"event_id": "e8-%1$s", "api_key_id": "%1$s", "model": "m", "input_tokens": 99999999999999999999999, "output_tokens": 1},
          {"event_id": "e1-%1$s", "api_key_id": "%1$s", "model": "claude-haiku-4-5", "input_tokens": 5, "output_tokens": 1}
        ]}""".formatted(key.id());

    HttpResponse<String> wrongToken = ingest("nope", batch);
    HttpResponse<String> response = ingest(GATEWAY_A, batch);

    assertEquals(401, wrongToken.statusCode());
    assertEquals(207, response.statusCode(), response.body());
    JsonNode body = Json.mapper().readTree(response.body());
    assertEquals(2, body.get("accepted").asInt());
    assertEquals(List.of("accepted", "accepted", "rejected", "rejected", "rejected", "rejected", "rejected", "rejected",
        "rejected"), List.of(0, 1, 2, 3, 4, 5, 6, 7, 8).stream().map(i -> body.at("/results/" + i + "/status").asText()).toList());
    assertEquals(List.of("api_key_id", "input_tokens", "event_id", "timestamp", "gateway_id", "input_tokens", "event_id"),
        List.of(2, 3, 4, 5, 6, 7, 8).stream().map(i -> body.at("/results/" + i + "/error/field").asText()).toList());
    assertEquals("timestamp 1000 is more than 72 hours old; usage that late is no longer counted",
        body.at("/results/5/error/message").asText(), "the grace in words, not PT72H");
    assertEquals("event_id e1-" + key.id() + " of api key " + key.id() + " repeats events[0] of this batch; each call"
        + " needs its own event_id", body.at("/results/8/error/message").asText(), "its usage would not be counted");
    assertEquals(3300, awaitKeyUsage(key.id(), 3300));
    assertTrue(usageEventsOf(key.id()).stream().allMatch(e -> e.getGatewayId().equals("gw-a")),
        "usage is recorded under the authenticated gateway");
  }

  @Test
  void shouldBindGatewayTokensToTheirOrganisations() throws Exception {
    // issue 14: a leaked gateway token could push usage onto any org's key and suspend it
    ApiKeyInfo aliceKey = alice.apiKeys().create(CreateApiKey.named("only-gw-a"));
    String batch = """
        {"events": [{"event_id": "x-%1$s", "api_key_id": "%1$s", "model": "m", "input_tokens": 5, "output_tokens": 5}]}"""
        .formatted(aliceKey.id());

    HttpResponse<String> otherOrgsGateway = ingest(GATEWAY_B, batch);

    assertEquals(207, otherOrgsGateway.statusCode(), otherOrgsGateway.body());
    JsonNode result = Json.mapper().readTree(otherOrgsGateway.body()).at("/results/0");
    assertEquals("rejected", result.get("status").asText());
    assertEquals("unknown api_key_id " + aliceKey.id(), result.at("/error/message").asText(),
        "another org's key is answered like an unknown one");
    assertEquals(202, ingest(GATEWAY_A, batch).statusCode());
  }

  @Test
  void shouldAnswer202OnlyOnceKafkaHasTheEventsAndCountARetryOnce() throws Exception {
    // issue 14: 202 was answered before the broker had the events, so a crash lost usage called accepted
    ApiKeyInfo key = alice.apiKeys().create(CreateApiKey.named("durable-ingest"));
    String batch = """
        {"events": [{"event_id": "d1-%1$s", "api_key_id": "%1$s", "model": "m", "input_tokens": 70, "output_tokens": 7},
                    {"event_id": "d2-%1$s", "api_key_id": "%1$s", "model": "m", "input_tokens": 30, "output_tokens": 3}]}"""
        .formatted(key.id());
    HttpResponse<String> refused;
    try (Admin admin = Admin.create(KafkaTestSupport.adminConfig(kafka.bootstrapServers()))) {
      String usual = topicConfig(admin, "max.message.bytes");
      setTopicConfig(admin, "max.message.bytes", "64"); // the broker refuses the batch: it is never acknowledged
      try {
        refused = ingest(GATEWAY_A, batch);
      } finally {
        setTopicConfig(admin, "max.message.bytes", usual);
      }
    }
    HttpResponse<String> retried = ingest(GATEWAY_A, batch);
    HttpResponse<String> later = ingest(GATEWAY_A, """
        {"events": [{"event_id": "d3-%1$s", "api_key_id": "%1$s", "model": "m", "input_tokens": 1, "output_tokens": 1}]}"""
        .formatted(key.id()));

    assertEquals(503, refused.statusCode(), refused.body());
    assertEquals("1", refused.headers().firstValue("Retry-After").orElse(null));
    JsonNode body = Json.mapper().readTree(refused.body());
    assertEquals(0, body.get("accepted").asInt());
    assertEquals("unavailable", body.at("/results/0/status").asText());
    assertEquals(202, retried.statusCode(), retried.body());
    assertEquals(202, later.statusCode(), later.body());
    assertEquals(112, awaitKeyUsage(key.id(), 112));
  }

  private static final ConfigResource USAGE_TOPIC = new ConfigResource(ConfigResource.Type.TOPIC, Topics.USAGE_EVENTS.name());

  private static void setTopicConfig(Admin admin, String name, String value) throws Exception {
    admin.incrementalAlterConfigs(Map.of(USAGE_TOPIC, List.of(new AlterConfigOp(new ConfigEntry(name, value),
        AlterConfigOp.OpType.SET)))).all().get();
    // the broker applies a topic config once it has read it from the metadata log
    KafkaTestSupport.await(name + "=" + value, Duration.ofSeconds(10), () -> {
      try {
        return value.equals(topicConfig(admin, name));
      } catch (Exception e) {
        return false;
      }
    });
  }

  private static String topicConfig(Admin admin, String name) throws Exception {
    return admin.describeConfigs(List.of(USAGE_TOPIC)).all().get().get(USAGE_TOPIC).get(name).value();
  }

  private static HttpResponse<String> ingest(String token, String batch) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(baseUrl + "/v1/usage/events"))
        .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.ofString(batch)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Waits until the key's usage today reaches {@code expected} and returns it. */
  private static long awaitKeyUsage(String keyId, long expected) throws InterruptedException {
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    long[] seen = {-1};
    KafkaTestSupport.await("usage of " + keyId + " reaching " + expected, Duration.ofSeconds(60), () -> {
      try {
        seen[0] = alice.usage().byKey(today, today).stream().filter(u -> u.apiKeyId().equals(keyId))
            .mapToLong(KeyUsage::totalTokens).sum();
        return seen[0] >= expected;
      } catch (AdminApiException.Unavailable notYet) {
        return false;
      }
    });
    return seen[0];
  }

  private static List<UsageEvent> usageEventsOf(String keyId) {
    return KafkaTestSupport.readAllCommitted(kafka.bootstrapServers(), Topics.USAGE_EVENTS.name(),
            new StringDeserializer(), Topics.USAGE_EVENTS.valueSerde().deserializer()).stream()
        .map(ConsumerRecord::value).filter(e -> e.getApiKeyId().equals(keyId)).toList();
  }

  @Test
  void shouldKeepTheAuditActorAnImmutableIdentity() throws Exception {
    // issue 14: the actor was the admin key's editable name, so an admin could act as "system:alert-service"
    String carolSecret = api.provisionAdminKey("org-a", "carol.actor@a.example");
    AdminClient carol = AdminClient.create(baseUrl, carolSecret);
    String carolKeyId = findKeyIdBySecret(carolSecret);
    ApiKeyInfo plain = alice.apiKeys().create(CreateApiKey.named("ops-bot"));

    AdminApiException.InvalidRequest reservedName = assertThrows(AdminApiException.InvalidRequest.class,
        () -> alice.apiKeys().create(CreateApiKey.named("System:alert-service")));
    AdminApiException.InvalidRequest renamedAdmin = assertThrows(AdminApiException.InvalidRequest.class,
        () -> carol.apiKeys().update(carolKeyId, UpdateApiKey.changes().name("system:alert-service")));
    AdminApiException.InvalidRequest renamedToEmail = assertThrows(AdminApiException.InvalidRequest.class,
        () -> carol.apiKeys().update(carolKeyId, UpdateApiKey.changes().name("mallory@a.example")));
    AdminApiException.InvalidRequest promoted = assertThrows(AdminApiException.InvalidRequest.class,
        () -> alice.apiKeys().update(plain.id(), UpdateApiKey.changes().permissions("admin")));
    ApiKeyInfo made = carol.apiKeys().create(CreateApiKey.named("made-by-carol"));

    assertEquals("name", reservedName.field());
    assertEquals("name", renamedAdmin.field());
    assertEquals("name", renamedToEmail.field());
    assertEquals("permissions", promoted.field());
    assertEquals("carol.actor@a.example", alice.apiKeys().get(carolKeyId).name());
    AuditLogEntry created = auditOf(alice, made.id()).get(0);
    assertEquals("carol.actor@a.example", created.actor());
    assertEquals(carolKeyId, created.details().get("actor_key_id"), "the key the admin acted with is recorded");
  }

  @Test
  void shouldNeverBringBackARevokedOrRotatedBootstrapKey() throws Exception {
    // issue 14: with METERING_BOOTSTRAP_ADMIN_KEY still set, a restart rewrote the key as ACTIVE with the old secret
    String revokedSecret = Secrets.generate();
    String rotatedSecret = Secrets.generate();
    try (AdminApi first = secondInstance("org-boot-revoked", revokedSecret);
        AdminApi second = secondInstance("org-boot-rotated", rotatedSecret)) {
      AdminClient.create("http://127.0.0.1:" + second.port(), rotatedSecret).apiKeys()
          .rotate(findKeyIdBySecret(rotatedSecret), Duration.ZERO);
      String other = first.provisionAdminKey("org-boot-revoked", "second@boot.example");
      AdminClient.create("http://127.0.0.1:" + first.port(), other).apiKeys().revoke(findKeyIdBySecret(revokedSecret));
    }

    try (AdminApi restartedRevoked = secondInstance("org-boot-revoked", revokedSecret);
        AdminApi restartedRotated = secondInstance("org-boot-rotated", rotatedSecret)) {
      assertThrows(AdminApiException.Unauthenticated.class, () -> AdminClient.create(
          "http://127.0.0.1:" + restartedRevoked.port(), revokedSecret).apiKeys().list(null).iterator().hasNext());
      assertThrows(AdminApiException.Unauthenticated.class, () -> AdminClient.create(
          "http://127.0.0.1:" + restartedRotated.port(), rotatedSecret).apiKeys().list(null).iterator().hasNext());
    }
  }

  @Test
  void shouldNeverLetARacingChangeRestoreAnOldSecretOrUnrevokeAKey() throws Exception {
    // issue 14: key changes were read-modify-write without a version check, worse across instances
    ApiKeyInfo key = alice.apiKeys().create(CreateApiKey.named("contended").maxTokensPerMonth(1000L));
    try (AdminApi other = secondInstance("org-a", ALICE_KEY)) {
      AdminClient viaA = alice;
      AdminClient viaB = AdminClient.create("http://127.0.0.1:" + other.port(), ALICE_KEY);
      KafkaTestSupport.await("the key on the second instance", Duration.ofSeconds(30), () -> {
        try {
          return viaB.apiKeys().get(key.id()) != null;
        } catch (AdminApiException.NotFound notYet) {
          return false;
        }
      });
      List<Thread> threads = new ArrayList<>();
      List<Throwable> unexpected = java.util.Collections.synchronizedList(new ArrayList<>());
      java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
      for (int t = 0; t < 4; t++) {
        AdminClient client = t % 2 == 0 ? viaA : viaB;
        boolean rotates = t < 2;
        int seed = t;
        threads.add(new Thread(() -> {
          for (int i = 0; i < 8; i++) {
            try {
              if (rotates) {
                client.apiKeys().rotate(key.id(), Duration.ZERO);
              } else {
                client.apiKeys().update(key.id(), UpdateApiKey.changes().maxTokensPerMonth(2000L + seed * 100 + i));
              }
              done.incrementAndGet();
            } catch (AdminApiException.Conflict raced) {
              // the expected answer to a lost race: read again and retry
            } catch (Throwable e) {
              unexpected.add(e);
            }
          }
        }));
      }
      threads.forEach(Thread::start);
      for (Thread thread : threads) {
        thread.join(120_000);
      }
      // a revocation racing updates through the other instance is made again on the key as it now
      // is: it never answers 409 while the key keeps working
      Thread revoker = new Thread(() -> {
        try {
          viaB.apiKeys().revoke(key.id());
        } catch (Throwable e) {
          unexpected.add(e);
        }
      });
      revoker.start();
      for (int i = 0; i < 5; i++) {
        try {
          viaA.apiKeys().update(key.id(), UpdateApiKey.changes().maxTokensPerMonth(9000L + i));
        } catch (AdminApiException.Conflict revokedOrRaced) {
          // either way the key must end revoked
        }
      }
      revoker.join(60_000);

      assertEquals(List.of(), unexpected, "only successes and 409s, never a 500 or 503, on either instance, and the"
          + " revocation succeeded");
      assertTrue(done.get() > 0);
      List<ApiKey> history = KafkaTestSupport.readAllCommitted(kafka.bootstrapServers(), Topics.API_KEYS.name(),
              new StringDeserializer(), Topics.API_KEYS.valueSerde().deserializer()).stream()
          .filter(r -> r.key().equals(key.id())).map(ConsumerRecord::value).toList();
      Set<String> seenSecrets = new HashSet<>();
      for (int i = 1; i < history.size(); i++) {
        ApiKey before = history.get(i - 1);
        ApiKey after = history.get(i);
        seenSecrets.add(before.getSecretHash());
        assertTrue(after.getSecretHash().equals(before.getSecretHash()) || !seenSecrets.contains(after.getSecretHash()),
            "record " + i + " brings back a secret that was rotated out");
        assertTrue(after.getUpdatedAt() > before.getUpdatedAt(), "every change moves the version forward");
        assertFalse(before.getStatus() == ApiKeyStatus.REVOKED && after.getStatus() == ApiKeyStatus.ACTIVE,
            "record " + i + " un-revokes the key");
      }
      assertEquals(ApiKeyStatus.REVOKED, history.get(history.size() - 1).getStatus());
      assertEquals(200, HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + other.port() + "/health/ready"))
          .build(), HttpResponse.BodyHandlers.ofString()).statusCode());
    }
  }

  @Test
  void shouldRefuseAChangeNamingAStaleVersionWithIfMatch() throws Exception {
    ApiKeyInfo key = alice.apiKeys().create(CreateApiKey.named("etagged"));
    HttpResponse<String> read = rawGet("/v1/organizations/api_keys/" + key.id(), "Bearer " + ALICE_KEY);
    String etag = read.headers().firstValue("ETag").orElseThrow();
    alice.apiKeys().update(key.id(), UpdateApiKey.changes().description("changed meanwhile"));

    HttpResponse<String> stale = HTTP.send(HttpRequest.newBuilder(URI.create(baseUrl + "/v1/organizations/api_keys/"
        + key.id())).header("Authorization", "Bearer " + ALICE_KEY).header("If-Match", etag)
        .POST(HttpRequest.BodyPublishers.ofString("{\"max_tokens_per_month\": 5}")).build(), HttpResponse.BodyHandlers.ofString());
    String fresh = rawGet("/v1/organizations/api_keys/" + key.id(), "Bearer " + ALICE_KEY).headers().firstValue("ETag")
        .orElseThrow();
    HttpResponse<String> current = HTTP.send(HttpRequest.newBuilder(URI.create(baseUrl + "/v1/organizations/api_keys/"
        + key.id())).header("Authorization", "Bearer " + ALICE_KEY).header("If-Match", fresh)
        .POST(HttpRequest.BodyPublishers.ofString("{\"max_tokens_per_month\": 5}")).build(), HttpResponse.BodyHandlers.ofString());

    assertEquals(409, stale.statusCode(), stale.body());
    assertNotEquals(etag, fresh);
    assertEquals(200, current.statusCode(), current.body());
    assertEquals(5L, alice.apiKeys().get(key.id()).maxTokensPerMonth());
  }

  /** Another admin-api instance on the same cluster, bootstrapping {@code orgId} with {@code secret}. */
  private static AdminApi secondInstance(String orgId, String secret) throws InterruptedException {
    Map<String, String> env = new java.util.HashMap<>(Map.of(
        "ADMIN_INSTANCE_ID", "admin-" + orgId,
        "ADMIN_BOOTSTRAP_ORG_ID", orgId,
        "ADMIN_BOOTSTRAP_ADMIN_EMAIL", "boot@" + orgId + ".example",
        "METERING_BOOTSTRAP_ADMIN_KEY", secret));
    env.putAll(commonEnv());
    return AdminApi.start(AdminConfig.from(new Env(env)), Clock.systemUTC());
  }

  /** What every admin-api instance of this test shares. */
  private static Map<String, String> commonEnv() {
    return Map.of(
        "KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(),
        "ADMIN_HTTP_PORT", "0",
        "ADMIN_HTTP_BIND", "127.0.0.1",
        "METERING_QUERY_URL", "http://localhost:" + metering.httpPort(),
        "METERING_QUERY_TOKEN", QUERY_TOKEN,
        "METERING_WEBHOOK_SIGNING_KEY", SIGNING_KEY);
  }

  private static List<AuditLogEntry> auditOf(AdminClient client, String apiKeyId) {
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    List<AuditLogEntry> entries = new ArrayList<>();
    client.auditLogs().list(today, today).forEach(e -> {
      if (apiKeyId.equals(e.apiKeyId())) {
        entries.add(e);
      }
    });
    return entries;
  }

  private static String findKeyIdBySecret(String secret) {
    String hash = Secrets.hash(secret);
    return KafkaTestSupport.readAllCommitted(kafka.bootstrapServers(), Topics.API_KEYS.name(), new StringDeserializer(),
            Topics.API_KEYS.valueSerde().deserializer()).stream()
        .filter(r -> r.value().getSecretHash().equals(hash)).map(ConsumerRecord::key).findFirst().orElseThrow();
  }

  private static ApiKey latestApiKey(String id) {
    ApiKey latest = null;
    for (var record : KafkaTestSupport.readAllCommitted(kafka.bootstrapServers(), Topics.API_KEYS.name(),
        new StringDeserializer(), Topics.API_KEYS.valueSerde().deserializer())) {
      if (record.key().equals(id)) {
        latest = record.value();
      }
    }
    return latest;
  }

  private static byte[] rawApiKeyRecord(String id) {
    return rawRecord(Topics.API_KEYS.name(), id);
  }

  private static byte[] rawRecord(String topic, String id) {
    byte[] latest = null;
    for (var record : KafkaTestSupport.readAllCommitted(kafka.bootstrapServers(), topic,
        new StringDeserializer(), new ByteArrayDeserializer())) {
      if (record.key().equals(id)) {
        latest = record.value();
      }
    }
    return latest;
  }

  private static AlertRule latestRule(String id) {
    AlertRule latest = null;
    for (var record : KafkaTestSupport.readAllCommitted(kafka.bootstrapServers(), Topics.ALERT_RULES.name(),
        new StringDeserializer(), Topics.ALERT_RULES.valueSerde().deserializer())) {
      if (record.key().equals(id)) {
        latest = record.value();
      }
    }
    return latest;
  }

  private static boolean ruleTombstoned(String id) {
    List<ConsumerRecord<String, byte[]>> records = KafkaTestSupport.readAllCommitted(kafka.bootstrapServers(),
        Topics.ALERT_RULES.name(), new StringDeserializer(), new ByteArrayDeserializer());
    ConsumerRecord<String, byte[]> last = null;
    for (var record : records) {
      if (record.key().equals(id)) {
        last = record;
      }
    }
    return last != null && last.value() == null;
  }

  private static String invalidField(String path, String body) throws Exception {
    HttpResponse<String> response = rawPost(path, body);
    assertEquals(400, response.statusCode(), response.body());
    return Json.mapper().readTree(response.body()).at("/error/field").asText();
  }

  private static HttpResponse<String> rawPost(String path, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(baseUrl + path)).header("Authorization", "Bearer " + ALICE_KEY)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> rawGet(String path, String authorization) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl + path));
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }
}
