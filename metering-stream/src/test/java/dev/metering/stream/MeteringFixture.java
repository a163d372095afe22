package dev.metering.stream;

import dev.metering.config.Env;
import dev.metering.records.AlertRule;
import dev.metering.records.ApiKey;
import dev.metering.records.ApiKeyStatus;
import dev.metering.records.LimitEvent;
import dev.metering.records.OrgBudget;
import dev.metering.records.UsageEvent;
import dev.metering.records.UsageSpike;
import dev.metering.records.state.MonthState;
import dev.metering.records.state.UsageTotals;
import dev.metering.schemas.Topics;
import dev.metering.stream.ingest.IngestProcessor;
import dev.metering.stream.limits.KeyLimits;
import dev.metering.stream.limits.MonthLimits;
import dev.metering.stream.limits.OrgLimits;
import dev.metering.stream.pricing.PriceBook;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;

/** A TopologyTestDriver over the metering topology, with helpers to feed and read it. */
public final class MeteringFixture implements AutoCloseable {

  public static final String ORG = "org-1";
  /** Wall clock of the driver: events are dated before it. */
  public static final Instant NOW = Instant.parse("2026-11-30T00:00:00Z");

  public final MeteringConfig config;
  public final TopologyTestDriver driver;
  public final TestInputTopic<String, byte[]> usage;
  public final TestInputTopic<String, ApiKey> apiKeys;
  public final TestInputTopic<String, AlertRule> rules;
  public final TestInputTopic<String, OrgBudget> budgets;
  public final TestOutputTopic<String, LimitEvent> limitEvents;
  public final TestOutputTopic<String, UsageSpike> spikes;
  public final TestOutputTopic<byte[], byte[]> deadLetters;
  /** The org path as other usage-events partitions' tasks write it: usage by org_id and watermark markers. */
  public final TestInputTopic<String, UsageEvent> orgPath;
  private final Path stateDir;

  public MeteringFixture() {
    this(Map.of());
  }

  public MeteringFixture(Map<String, String> env) {
    this(env, 1);
  }

  /**
   * @param usagePartitions partitions of usage-events the org tasks wait for; the driver feeds
   *     partition 0, and {@link #orgPath} stands in for the others
   */
  public MeteringFixture(Map<String, String> env, int usagePartitions) {
    try {
      stateDir = Files.createTempDirectory("metering-ttd");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    Map<String, String> vars = new HashMap<>(env);
    vars.put("METERING_STATE_DIR", stateDir.toString());
    vars.putIfAbsent("METERING_APPLICATION_ID", "ttd-" + UUID.randomUUID());
    config = MeteringConfig.from(new Env(vars));
    Properties props = StreamsSettings.of(config);
    driver = new TopologyTestDriver(MeteringTopology.build(config, PriceBook.bundled(), usagePartitions), props, NOW);
    usage = driver.createInputTopic(Topics.USAGE_EVENTS.name(), new StringSerializer(), new ByteArraySerializer());
    apiKeys = driver.createInputTopic(Topics.API_KEYS.name(), new StringSerializer(),
        Topics.API_KEYS.valueSerde().serializer());
    rules = driver.createInputTopic(Topics.ALERT_RULES.name(), new StringSerializer(),
        Topics.ALERT_RULES.valueSerde().serializer());
    budgets = driver.createInputTopic(Topics.ORG_BUDGETS.name(), new StringSerializer(),
        Topics.ORG_BUDGETS.valueSerde().serializer());
    limitEvents = driver.createOutputTopic(Topics.LIMIT_EVENTS.name(), new StringDeserializer(),
        Topics.LIMIT_EVENTS.valueSerde().deserializer());
    spikes = driver.createOutputTopic(Topics.SPIKE_EVENTS.name(), new StringDeserializer(),
        Topics.SPIKE_EVENTS.valueSerde().deserializer());
    orgPath = driver.createInputTopic(config.applicationId() + "-usage-by-org-repartition", new StringSerializer(),
        Topics.USAGE_EVENTS.valueSerde().serializer());
    deadLetters = driver.createOutputTopic(Topics.USAGE_EVENTS_DLQ.name(), new ByteArrayDeserializer(),
        new ByteArrayDeserializer());
  }

  public static UsageEvent event(String apiKeyId, String time, long inputTokens) {
    return event(apiKeyId, Instant.parse(time), inputTokens);
  }

  public static UsageEvent event(String apiKeyId, Instant time, long inputTokens) {
    return UsageEvent.newBuilder()
        .setEventId(UUID.randomUUID().toString())
        .setOrgId(ORG)
        .setApiKeyId(apiKeyId)
        .setModel("claude-sonnet-4")
        .setInputTokens(inputTokens)
        .setOutputTokens(0)
        .setCacheCreationInputTokens(0)
        .setCacheReadInputTokens(0)
        .setTimestamp(time.toEpochMilli())
        .setGatewayId("gw-1")
        .build();
  }

  /** A key id Kafka's Java producer puts in {@code partition} of {@code partitions} by default. */
  public static String keyInPartition(int partition, int partitions) {
    return idInPartition("key-", partition, partitions);
  }

  /** An id starting with {@code prefix} that Kafka's Java producer puts in {@code partition} by default. */
  public static String idInPartition(String prefix, int partition, int partitions) {
    for (int i = 0; ; i++) {
      String key = prefix + i;
      if (BuiltInPartitioner.partitionForKey(key.getBytes(StandardCharsets.UTF_8), partitions) == partition) {
        return key;
      }
    }
  }

  public static ApiKey key(String id, Long maxTokensPerMonth, boolean hardLimit) {
    return ApiKey.newBuilder()
        .setId(id).setOrgId(ORG).setName(id).setKeyPrefix("sk-mtr-x").setSecretHash("00")
        .setPermissions(List.of("messages:write")).setMaxTokensPerMonth(maxTokensPerMonth)
        .setHardLimit(hardLimit).setStatus(ApiKeyStatus.ACTIVE)
        .setCreatedAt(0L).setCreatedBy("admin@example.com").setUpdatedAt(0L)
        .build();
  }

  public static AlertRule rule(String id, String apiKeyId, int thresholdPercent) {
    return AlertRule.newBuilder()
        .setId(id).setOrgId(ORG).setName(id).setApiKeyId(apiKeyId).setThresholdPercent(thresholdPercent)
        .setNotificationEmail("ops@example.com").setCreatedBy("admin@example.com").setCreatedAt(0L)
        .build();
  }

  /** An alert rule on the organisation's budget: no key. */
  public static AlertRule orgRule(String id, int thresholdPercent) {
    return AlertRule.newBuilder(rule(id, null, thresholdPercent)).build();
  }

  public static OrgBudget budget(Long maxTokensPerMonth, Long maxCostMicrosPerMonth, boolean hardLimit) {
    return OrgBudget.newBuilder().setOrgId(ORG).setMaxTokensPerMonth(maxTokensPerMonth)
        .setMaxCostMicrosPerMonth(maxCostMicrosPerMonth).setHardLimit(hardLimit)
        .setUpdatedBy("admin@example.com").setUpdatedAt(0L).build();
  }

  public void putBudget(OrgBudget budget, String time) {
    budgets.pipeInput(budget.getOrgId(), budget, Instant.parse(time));
  }

  /** The org's month as its org task keeps it against the budget. */
  public MonthState orgMonth(String orgId, String period) {
    KeyValueStore<String, MonthState> store = driver.getKeyValueStore(OrgLimits.MONTH_STORE);
    return store.get(MonthLimits.monthKey(orgId, period));
  }

  public void send(UsageEvent event) {
    usage.pipeInput(event.getApiKeyId(), Topics.USAGE_EVENTS.encode(event),
        Instant.ofEpochMilli(event.getTimestamp()));
  }

  public void putKey(ApiKey key, String time) {
    apiKeys.pipeInput(key.getId(), key, Instant.parse(time));
  }

  public void putRule(AlertRule rule, String time) {
    rules.pipeInput(rule.getId(), rule, Instant.parse(time));
  }

  public MonthState month(String apiKeyId, String period) {
    KeyValueStore<String, MonthState> store = driver.getKeyValueStore(KeyLimits.MONTH_STORE);
    return store.get(KeyLimits.monthKey(apiKeyId, period));
  }

  public UsageTotals bucket(String store, String id, String start) {
    WindowStore<String, UsageTotals> windows = driver.getWindowStore(store);
    return windows.fetch(id, Instant.parse(start).toEpochMilli());
  }

  public long counter(String name) {
    KeyValueStore<String, Long> counters = driver.getKeyValueStore(IngestProcessor.COUNTERS_STORE);
    Long value = counters.get(name);
    return value == null ? 0 : value;
  }

  @Override
  public void close() {
    driver.close();
    try (var files = Files.walk(stateDir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (java.io.IOException ignored) {
      // a temp dir left behind is harmless
    }
  }
}
