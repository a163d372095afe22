package dev.metering.schemas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.records.AlertRule;
import dev.metering.records.ApiKey;
import dev.metering.records.ApiKeyStatus;
import dev.metering.records.AuditRecord;
import dev.metering.records.KeyState;
import dev.metering.records.KeyStatus;
import dev.metering.records.LimitEvent;
import dev.metering.records.LimitEventKind;
import dev.metering.records.LimitScope;
import dev.metering.records.LimitUnit;
import dev.metering.records.Notification;
import dev.metering.records.NotificationChannel;
import dev.metering.records.OrgBudget;
import dev.metering.records.UsageEvent;
import dev.metering.records.UsageSpike;
import dev.metering.records.state.ModelUsage;
import dev.metering.records.state.UsageTotals;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class AvroSerdeTest {

  static Stream<SpecificRecord> everyRecord() {
    return Stream.of(
        UsageEvent.newBuilder()
            .setEventId("evt-1").setOrgId("org-1").setApiKeyId("key-1").setModel("claude-sonnet-4")
            .setInputTokens(120).setOutputTokens(80).setCacheCreationInputTokens(10)
            .setCacheReadInputTokens(5).setTimestamp(1_764_000_000_000L).setGatewayId("gw-1")
            .setRequestId("req-1").build(),
        ApiKey.newBuilder()
            .setId("key-1").setOrgId("org-1").setName("ci").setDescription("for CI")
            .setKeyPrefix("sk-mtr-ab").setSecretHash("00ff").setPermissions(List.of("messages:write"))
            .setMaxTokensPerMonth(1_000_000L).setHardLimit(true).setStatus(ApiKeyStatus.ACTIVE)
            .setCreatedAt(1L).setCreatedBy("admin@example.com").setUpdatedAt(2L)
            .setRotatedFrom("key-0").setExpiresAt(3L).build(),
        AlertRule.newBuilder()
            .setId("rule-1").setOrgId("org-1").setName("80%").setApiKeyId("key-1")
            .setThresholdPercent(80).setNotificationEmail("ops@example.com")
            .setWebhookUrl("https://hooks.example.com/x").setCreatedBy("admin@example.com")
            .setCreatedAt(1L).build(),
        LimitEvent.newBuilder()
            .setKind(LimitEventKind.THRESHOLD_CROSSED).setOrgId("org-1").setApiKeyId("key-1")
            .setPeriod("2026-11").setUsedTokens(800).setLimitTokens(1000).setPercent(80.0)
            .setRuleId("rule-1").setThresholdPercent(80).setHardLimit(false)
            .setTriggeringEventId("evt-9").setDetectedAt(5L).build(),
        UsageSpike.newBuilder()
            .setOrgId("org-1").setApiKeyId(null).setDay("2026-11-28").setTokens(3001)
            .setBaselineDay("2026-11-21").setBaselineTokens(1000).setRatio(3.001).setDetectedAt(6L).build(),
        KeyStatus.newBuilder()
            .setApiKeyId("key-1").setOrgId("org-1").setState(KeyState.SUSPENDED)
            .setReason("monthly limit reached").setSuspendedUntil(7L).setUpdatedAt(8L).build(),
        Notification.newBuilder()
            .setId("n-1").setOrgId("org-1").setApiKeyId("key-1").setChannel(NotificationChannel.WEBHOOK)
            .setTarget("https://hooks.example.com/x").setSubject("limit").setBody("{}")
            .setCause("limit_breached:key-1:2026-11").setCreatedAt(9L).build(),
        AuditRecord.newBuilder()
            .setId("a-1").setOrgId("org-1").setTimestamp(10L).setEventType("key_created")
            .setActor("admin@example.com").setApiKeyId("key-1").setDescription("created key ci")
            .setDetails(Map.of("name", "ci")).build(),
        OrgBudget.newBuilder()
            .setOrgId("org-1").setMaxTokensPerMonth(null).setMaxCostMicrosPerMonth(250_000_000L).setHardLimit(true)
            .setUpdatedBy("admin@example.com").setUpdatedAt(11L).build(),
        LimitEvent.newBuilder()
            .setKind(LimitEventKind.LIMIT_BREACHED).setScope(LimitScope.ORG).setOrgId("org-1").setApiKeyId(null)
            .setPeriod("2026-11").setUsedTokens(9000).setLimitTokens(0).setPercent(100.4).setHardLimit(true)
            .setLimitUnit(LimitUnit.COST).setUsedCostMicros(251_000_000L).setLimitCostMicros(250_000_000L)
            .setDetectedAt(12L).build(),
        UsageTotals.newBuilder()
            .setOrgId("org-1").setInputTokens(30).setOutputTokens(4).setRequests(2).setCostMicros(99)
            .setByModel(Map.of(
                "claude-haiku", new ModelUsage(10L, 1L, 0L, 0L, 1L, 33L, 0L),
                "claude-sonnet-4", new ModelUsage(20L, 3L, 0L, 0L, 1L, 66L, 1L)))
            .build());
  }

  @ParameterizedTest
  @MethodSource("everyRecord")
  @SuppressWarnings("unchecked")
  <T extends SpecificRecord> void shouldRoundTripEveryRecord(T record) {
    AvroSerde<T> serde = RecordSerdes.forType((Class<T>) record.getClass());

    byte[] bytes = serde.serialize("t", record);
    T read = serde.deserialize("t", bytes);

    assertEquals(record, read);
    assertEquals((byte) 0xC3, bytes[0], "single-object encoding marker");
    assertEquals((byte) 0x01, bytes[1], "single-object encoding version");
  }

  /** Other readers of our topics use Avro's own message classes: the bytes must be theirs exactly. */
  @ParameterizedTest
  @MethodSource("everyRecord")
  @SuppressWarnings("unchecked")
  <T extends SpecificRecord> void shouldWriteTheBytesAvrosMessageEncoderWrites(T record) throws IOException {
    AvroSerde<T> serde = RecordSerdes.forType((Class<T>) record.getClass());
    BinaryMessageEncoder<T> avro = new BinaryMessageEncoder<>(SpecificData.get(), record.getSchema());

    byte[] ours = serde.serialize("t", record);

    assertArrayEquals(toBytes(avro.encode(record)), ours);
    assertEquals(record, new BinaryMessageDecoder<T>(SpecificData.get(), record.getSchema()).decode(ours));
  }

  @Test
  void shouldPassTombstonesThrough() {
    AvroSerde<ApiKey> serde = RecordSerdes.apiKey();

    assertNull(serde.serialize("api-keys", null));
    assertNull(serde.deserialize("api-keys", null));
  }

  @Test
  void shouldReadUsageEventWrittenWithReleasedV1Schema() throws IOException {
    Schema v1 = SchemaHistory.released().versionsOf(UsageEvent.getClassSchema().getFullName()).stream()
        .filter(s -> s.getField("request_id") == null)
        .findFirst().orElseThrow();
    GenericRecord old = new GenericData.Record(v1);
    old.put("event_id", "evt-old");
    old.put("org_id", "org-1");
    old.put("api_key_id", "key-1");
    old.put("model", "claude-haiku");
    old.put("input_tokens", 7L);
    old.put("output_tokens", 3L);
    old.put("cache_creation_input_tokens", 0L);
    old.put("cache_read_input_tokens", 1L);
    old.put("timestamp", 1_700_000_000_000L);
    old.put("gateway_id", "gw-old");
    byte[] bytes = toBytes(new BinaryMessageEncoder<>(GenericData.get(), v1).encode(old));

    UsageEvent read = RecordSerdes.usageEvent().deserialize("usage-events", bytes);

    assertEquals("evt-old", read.getEventId());
    assertEquals(7L, read.getInputTokens());
    assertEquals("gw-old", read.getGatewayId());
    assertNull(read.getRequestId(), "field added in v2 takes its default");
  }

  @Test
  void shouldReadAnApiKeyAndALimitEventWrittenBeforeCostLimitsAsTokenOnly() throws IOException {
    Schema keyV2 = released(ApiKey.getClassSchema(), s -> s.getField("max_cost_micros_per_month") == null
        && s.getField("previous_secret_hash") != null);
    ApiKey key = RecordSerdes.apiKey().deserialize("api-keys", writtenWith(keyV2, Map.ofEntries(
        Map.entry("id", "key-old"), Map.entry("org_id", "org-1"), Map.entry("name", "before budgets"),
        Map.entry("key_prefix", "sk-mtr-abcd"), Map.entry("secret_hash", "00"),
        Map.entry("permissions", List.of("messages:write")), Map.entry("max_tokens_per_month", 5_000L),
        Map.entry("hard_limit", true), Map.entry("status", "ACTIVE"), Map.entry("created_at", 1L),
        Map.entry("created_by", "admin@example.com"), Map.entry("updated_at", 2L))));
    assertEquals(5_000L, key.getMaxTokensPerMonth());
    assertNull(key.getMaxCostMicrosPerMonth(), "no cost limit: the field added in v3 takes its default");

    Schema eventV1 = released(LimitEvent.getClassSchema(), s -> s.getField("limit_unit") == null);
    LimitEvent event = RecordSerdes.limitEvent().deserialize("limit-events", writtenWith(eventV1, Map.of(
        "kind", "LIMIT_BREACHED", "org_id", "org-1", "api_key_id", "key-old", "period", "2026-10",
        "used_tokens", 5_100L, "limit_tokens", 5_000L, "percent", 102.0, "hard_limit", true, "detected_at", 3L)));
    assertEquals(LimitUnit.TOKENS, event.getLimitUnit(), "an event from before cost limits is about tokens");
    assertEquals(5_000L, event.getLimitTokens());
    assertEquals(0L, event.getUsedCostMicros());
    assertNull(event.getLimitCostMicros());
  }

  @Test
  void shouldReadRulesEventsAndStatusesWrittenBeforeOrgBudgetsAsKeyScoped() throws IOException {
    Schema ruleV2 = released(AlertRule.getClassSchema(),
        s -> s.getField("api_key_id").schema().getType() == Schema.Type.STRING
            && s.getField("webhook_secret_version") != null);
    AlertRule rule = RecordSerdes.alertRule().deserialize("alert-rules", writtenWith(ruleV2, Map.of(
        "id", "alr-old", "org_id", "org-1", "name", "80%", "api_key_id", "key-old", "threshold_percent", 80,
        "created_by", "admin@example.com", "created_at", 1L, "webhook_secret_version", 2)));
    assertEquals("key-old", rule.getApiKeyId());
    assertEquals(2, rule.getWebhookSecretVersion());

    Schema eventV2 = released(LimitEvent.getClassSchema(), s -> s.getField("limit_unit") != null
        && s.getField("scope") == null);
    LimitEvent event = RecordSerdes.limitEvent().deserialize("limit-events", writtenWith(eventV2, Map.ofEntries(
        Map.entry("kind", "THRESHOLD_CROSSED"), Map.entry("org_id", "org-1"), Map.entry("api_key_id", "key-old"),
        Map.entry("period", "2026-11"), Map.entry("used_tokens", 10L), Map.entry("limit_tokens", 0L),
        Map.entry("percent", 80.0), Map.entry("hard_limit", false), Map.entry("detected_at", 3L),
        Map.entry("limit_unit", "COST"), Map.entry("used_cost_micros", 800L), Map.entry("limit_cost_micros", 1_000L))));
    assertEquals(LimitScope.KEY, event.getScope(), "an event from before org budgets is about a key");
    assertEquals("key-old", event.getApiKeyId());
    assertEquals(LimitUnit.COST, event.getLimitUnit());

    Schema statusV1 = released(KeyStatus.getClassSchema(),
        s -> s.getField("api_key_id").schema().getType() == Schema.Type.STRING);
    KeyStatus status = RecordSerdes.keyStatus().deserialize("key-status", writtenWith(statusV1, Map.of(
        "api_key_id", "key-old", "org_id", "org-1", "state", "SUSPENDED",
        "reason", "monthly token limit of 5000 reached in 2026-11", "suspended_until", 4L, "updated_at", 5L)));
    assertEquals("key-old", status.getApiKeyId());
    assertEquals(KeyState.SUSPENDED, status.getState());
  }

  /** A record as a producer with the released {@code schema} wrote it; a string given for an enum field is its symbol. */
  private static byte[] writtenWith(Schema schema, Map<String, Object> fields) throws IOException {
    GenericRecord record = new GenericData.Record(schema);
    fields.forEach((name, value) -> {
      Schema type = schema.getField(name).schema();
      record.put(name, type.getType() == Schema.Type.ENUM ? new GenericData.EnumSymbol(type, (String) value) : value);
    });
    return toBytes(new BinaryMessageEncoder<>(GenericData.get(), schema).encode(record));
  }

  private static Schema released(Schema current, java.util.function.Predicate<Schema> which) {
    return SchemaHistory.released().versionsOf(current.getFullName()).stream().filter(which).findFirst().orElseThrow();
  }

  @Test
  void shouldReadEveryReleasedVersionWithTheCurrentSchema() {
    for (Schema current : Records.CURRENT_SCHEMAS) {
      for (Schema released : SchemaHistory.released().versionsOf(current.getFullName())) {
        var result = SchemaCompatibility.checkReaderWriterCompatibility(current, released).getType();
        assertEquals(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE, result,
            current.getFullName() + " cannot read a released version");
      }
    }
  }

  @Test
  void shouldRejectUnknownFingerprintNamingTheCause() {
    byte[] bytes = RecordSerdes.usageEvent().serialize("usage-events", (UsageEvent) everyRecord().findFirst().orElseThrow());
    // bytes 2..9 hold the writer schema's fingerprint; change it to one no version has
    bytes[2] ^= (byte) 0xFF;

    SerializationException e = assertThrows(SerializationException.class,
        () -> RecordSerdes.usageEvent().deserialize("usage-events", bytes));

    assertTrue(e.getMessage().contains("unknown schema fingerprint"), e.getMessage());
    assertTrue(e.getMessage().contains("usage-events"), e.getMessage());
  }

  @Test
  void shouldRejectBytesThatAreNotSingleObjectEncoding() {
    byte[] bytes = "{\"event_id\":\"x\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);

    SerializationException e = assertThrows(SerializationException.class,
        () -> RecordSerdes.usageEvent().deserialize("usage-events", bytes));

    assertTrue(e.getMessage().contains("corrupt bytes"), e.getMessage());
    assertTrue(e.getMessage().contains("not Avro single-object encoding"), e.getMessage());
  }

  @Test
  void shouldRejectTruncatedBody() {
    byte[] full = RecordSerdes.usageEvent().serialize("usage-events", (UsageEvent) everyRecord().findFirst().orElseThrow());
    byte[] truncated = Arrays.copyOf(full, full.length - 6);

    SerializationException e = assertThrows(SerializationException.class,
        () -> RecordSerdes.usageEvent().deserialize("usage-events", truncated));

    assertTrue(e.getMessage().contains("does not match its schema"), e.getMessage());
  }

  @Test
  void shouldRejectTrailingBytes() {
    byte[] full = RecordSerdes.usageEvent().serialize("usage-events", (UsageEvent) everyRecord().findFirst().orElseThrow());
    byte[] padded = Arrays.copyOf(full, full.length + 3);

    SerializationException e = assertThrows(SerializationException.class,
        () -> RecordSerdes.usageEvent().deserialize("usage-events", padded));

    assertTrue(e.getMessage().contains("3 trailing bytes"), e.getMessage());
  }

  @Test
  void shouldRejectARecordOfAnotherType() {
    byte[] apiKeyBytes = RecordSerdes.apiKey().serialize("api-keys", (ApiKey) everyRecord().skip(1).findFirst().orElseThrow());

    SerializationException e = assertThrows(SerializationException.class,
        () -> RecordSerdes.usageEvent().deserialize("usage-events", apiKeyBytes));

    assertTrue(e.getMessage().contains("UsageEvent"), e.getMessage());
  }

  private static byte[] toBytes(ByteBuffer buffer) {
    byte[] bytes = new byte[buffer.remaining()];
    buffer.get(bytes);
    return bytes;
  }
}
