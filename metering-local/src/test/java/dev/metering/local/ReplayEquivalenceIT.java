package dev.metering.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.metering.alerts.AlertService;
import dev.metering.alerts.AlertServiceConfig;
import dev.metering.config.Env;
import dev.metering.keys.Secrets;
import dev.metering.kafka.EmbeddedKafka;
import dev.metering.kafka.KafkaTestSupport;
import dev.metering.records.AlertRule;
import dev.metering.records.ApiKey;
import dev.metering.records.ApiKeyStatus;
import dev.metering.records.AuditRecord;
import dev.metering.records.KeyStatus;
import dev.metering.records.LimitEvent;
import dev.metering.records.OrgBudget;
import dev.metering.records.UsageEvent;
import dev.metering.records.UsageSpike;
import dev.metering.records.state.UsageTotals;
import dev.metering.schemas.Topics;
import dev.metering.stream.MeteringApp;
import dev.metering.stream.MeteringConfig;
import dev.metering.stream.pricing.PriceBook;
import dev.metering.stream.usage.KeyUsageProcessor;
import dev.metering.stream.usage.OrgUsageProcessor;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;
import org.apache.kafka.streams.kstream.Windowed;
import org.junit.jupiter.api.Test;

/**
 * Replay equivalence (issue 13): the same usage, once as live traffic and once as a full-speed
 * backfill, each on its own broker with metering-stream and alert-service, must leave the same
 * totals, counters, limit events, spikes, key statuses and audit records, all but the
 * detected-at style timestamps and what derives from them.
 *
 * <p>Live: keys and rules first, then the usage in time order, a slice at a time, each slice
 * metered before the next is sent. Backfill: all the usage at once with bad records among it, and
 * the keys and rules only after it was metered, their records dated before the usage. The usage
 * spans the months a configuration change still acts on (the open month and, within the late
 * grace, the one before), since a backfill's configuration arriving last can act on no others.
 */
class ReplayEquivalenceIT {

  private static final int PARTITIONS = 3;
  private static final Duration GRACE = Duration.ofDays(3);

  /** What a run left behind, in forms that do not depend on arrival order or wall-clock time. */
  record Outcome(Map<String, Long> counters, Map<String, UsageTotalsView> keyDays, Map<String, UsageTotalsView> orgDays,
      Map<String, Integer> limitEvents, Map<String, Integer> spikes, Map<String, String> keyStatuses,
      Map<String, Integer> audits) {
  }

  record UsageTotalsView(long input, long output, long cacheCreation, long cacheRead, long costMicros, long requests,
      long fallbackPriced) {
    static UsageTotalsView of(UsageTotals t) {
      return new UsageTotalsView(t.getInputTokens(), t.getOutputTokens(), t.getCacheCreationInputTokens(),
          t.getCacheReadInputTokens(), t.getCostMicros(), t.getRequests(), t.getFallbackPricedRequests());
    }
  }

  @Test
  void shouldLeaveTheSameResultsWhetherUsageArrivesLiveOrAsABackfill() throws Exception {
    long now = System.currentTimeMillis();
    long openFrom = YearMonth.from(Instant.ofEpochMilli(now - GRACE.toMillis() + 3_600_000).atOffset(ZoneOffset.UTC))
        .atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC).toEpochMilli();
    long from = Math.max(now - Duration.ofDays(20).toMillis(), openFrom);
    long to = now - Duration.ofHours(1).toMillis();
    Usage usage = new Usage(42, from, to);

    Outcome live = run(usage, false);
    Outcome backfill = run(usage, true);

    assertFalse(live.limitEvents().isEmpty(), "the usage crosses limits");
    assertTrue(live.limitEvents().keySet().stream().anyMatch(e -> e.startsWith("LIMIT_BREACHED") && e.endsWith("hard=true")),
        "a hard limit is breached: " + live.limitEvents().keySet());
    assertTrue(live.limitEvents().keySet().stream().anyMatch(e -> e.startsWith("THRESHOLD_CROSSED")),
        "a threshold is crossed: " + live.limitEvents().keySet());
    assertTrue(live.limitEvents().keySet().stream().anyMatch(e -> e.startsWith("LIMIT_BREACHED ORG org-1")),
        "an organisation's hard budget is breached: " + live.limitEvents().keySet());
    assertTrue(live.limitEvents().keySet().stream().anyMatch(e -> e.startsWith("THRESHOLD_CROSSED ORG org-0")),
        "an organisation's budget rule fires: " + live.limitEvents().keySet());
    if (usage.burst) {
      assertTrue(live.spikes().keySet().stream().anyMatch(k -> k.startsWith("org-0 null ")), "an org spike: " + live.spikes());
      assertTrue(live.spikes().keySet().stream().anyMatch(k -> k.startsWith("org-0 key-0 ")), "a key spike: " + live.spikes());
    }
    assertEquals((long) ((usage.events.size() + 249) / 500), live.counters().get("dead_lettered.CONFLICTING_DUPLICATE"),
        "every repeat with other usage dead-lettered: " + live.counters());
    assertEquals(live.counters(), backfill.counters(), "accepted, duplicates and dead letters by reason");
    assertEquals(live.keyDays(), backfill.keyDays(), "daily totals per key");
    assertEquals(live.orgDays(), backfill.orgDays(), "daily totals per org");
    assertEquals(live.limitEvents(), backfill.limitEvents(), "limit events");
    assertEquals(live.spikes(), backfill.spikes(), "spikes");
    assertEquals(live.keyStatuses(), backfill.keyStatuses(), "key statuses");
    assertEquals(live.audits(), backfill.audits(), "audit records");
    System.out.printf("replay equivalence: %d limit events, %d spikes, %d audit records, counters %s%n",
        live.limitEvents().values().stream().mapToInt(Integer::intValue).sum(),
        live.spikes().values().stream().mapToInt(Integer::intValue).sum(),
        live.audits().values().stream().mapToInt(Integer::intValue).sum(), live.counters());
  }

  private static Outcome run(Usage usage, boolean backfill) throws Exception {
    try (EmbeddedKafka kafka = KafkaTestSupport.brokerWithTopics(PARTITIONS)) {
      GreenMail smtp = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
      smtp.start();
      Map<String, String> env = new HashMap<>(Map.of(
          "KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(),
          "METERING_APPLICATION_ID", "replay-" + UUID.randomUUID(),
          "METERING_STATE_DIR", Files.createTempDirectory("replay-it").toString(),
          "METERING_HTTP_PORT", "0",
          "METERING_HTTP_BIND", "127.0.0.1",
          "METERING_ROCKSDB_MEMORY_MB", "64",
          "METERING_SPIKE_MIN_BASELINE_TOKENS", "1000",
          "SMTP_HOST", "127.0.0.1",
          "SMTP_PORT", Integer.toString(smtp.getSmtp().getPort())));
      env.put("METERING_LATE_GRACE", GRACE.toString());
      env.put("METERING_WEBHOOK_SIGNING_KEY", Secrets.generate());
      env.put("ALERT_HTTP_PORT", "0");
      MeteringApp metering = MeteringApp.start(MeteringConfig.from(new Env(env)), PriceBook.bundled());
      AlertService alerts = AlertService.start(AlertServiceConfig.from(new Env(env)), Clock.systemUTC());
      try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(kafka.bootstrapServers())) {
        assertTrue(metering.awaitRunning(Duration.ofSeconds(90)), "RUNNING");
        if (backfill) {
          usage.records().forEach(producer::send);
          producer.flush();
          awaitConsumed(metering, usage.records().size());
          usage.configuration(usage.from - Duration.ofDays(1).toMillis()).forEach(producer::send);
        } else {
          usage.configuration(usage.from - Duration.ofDays(1).toMillis()).forEach(producer::send);
          producer.flush();
          awaitCaughtUp(kafka, "metering-stream's keys", env.get("METERING_APPLICATION_ID"), Topics.API_KEYS.name());
          awaitCaughtUp(kafka, "metering-stream's rules", env.get("METERING_APPLICATION_ID"), Topics.ALERT_RULES.name());
          awaitCaughtUp(kafka, "metering-stream's budgets", env.get("METERING_APPLICATION_ID"),
              Topics.ORG_BUDGETS.name());
          List<ProducerRecord<String, byte[]>> records = usage.records();
          int slice = Math.max(1, records.size() / 25);
          for (int i = 0; i < records.size(); i += slice) {
            records.subList(i, Math.min(records.size(), i + slice)).forEach(producer::send);
            producer.flush();
            awaitConsumed(metering, Math.min(records.size(), i + slice));
          }
        }
        producer.flush();
        awaitCaughtUp(kafka, "metering-stream", env.get("METERING_APPLICATION_ID"), Topics.USAGE_EVENTS.name());
        awaitCaughtUp(kafka, "metering-stream", env.get("METERING_APPLICATION_ID"), Topics.API_KEYS.name());
        awaitCaughtUp(kafka, "metering-stream", env.get("METERING_APPLICATION_ID"), Topics.ORG_BUDGETS.name());
        for (String internal : List.of("alert-rules-by-key", "alert-rules-by-org", "usage-by-org")) {
          awaitCaughtUp(kafka, "metering-stream", env.get("METERING_APPLICATION_ID"),
              env.get("METERING_APPLICATION_ID") + "-" + internal + "-repartition");
        }
        awaitCaughtUp(kafka, "alert-service", "alert-service", Topics.LIMIT_EVENTS.name());
        awaitCaughtUp(kafka, "alert-service", "alert-service", Topics.SPIKE_EVENTS.name());
        return outcome(kafka, metering);
      } finally {
        alerts.close();
        metering.close();
        smtp.stop();
      }
    }
  }

  private static Outcome outcome(EmbeddedKafka kafka, MeteringApp metering) {
    String bootstrap = kafka.bootstrapServers();
    Map<String, Integer> limits = count(KafkaTestSupport.readAllCommitted(bootstrap, Topics.LIMIT_EVENTS.name(),
        new StringDeserializer(), Topics.LIMIT_EVENTS.valueSerde().deserializer()), r -> {
          LimitEvent e = r.value();
          return e.getKind() + " " + e.getScope() + " " + e.getOrgId() + " " + e.getApiKeyId() + " " + e.getPeriod()
              + " rule=" + e.getRuleId() + " unit=" + e.getLimitUnit() + " limit=" + e.getLimitTokens() + "/"
              + e.getLimitCostMicros() + " hard=" + e.getHardLimit();
        });
    Map<String, Integer> spikes = count(KafkaTestSupport.readAllCommitted(bootstrap, Topics.SPIKE_EVENTS.name(),
        new StringDeserializer(), Topics.SPIKE_EVENTS.valueSerde().deserializer()), r -> {
          UsageSpike s = r.value();
          // a key's usage is metered in its partition's order either way, so its spike fires at the same
          // event; an org's usage interleaves differently, so only its day and baseline are the same
          return s.getOrgId() + " " + s.getApiKeyId() + " " + s.getDay() + " baseline=" + s.getBaselineTokens()
              + (s.getApiKeyId() == null ? "" : " tokens=" + s.getTokens());
        });
    Map<String, String> statuses = new TreeMap<>();
    KafkaTestSupport.readAllCommitted(bootstrap, Topics.KEY_STATUS.name(), new StringDeserializer(),
            Topics.KEY_STATUS.valueSerde().deserializer())
        .forEach(r -> {
          KeyStatus s = r.value();
          statuses.put(r.key(), s.getState() + " until " + s.getSuspendedUntil());
        });
    Map<String, Integer> audits = count(KafkaTestSupport.readAllCommitted(bootstrap, Topics.AUDIT_LOG.name(),
        new StringDeserializer(), Topics.AUDIT_LOG.valueSerde().deserializer()).stream()
        .filter(r -> !r.value().getEventType().startsWith("alert_deliver"))
        .toList(), r -> {
          AuditRecord a = r.value();
          return a.getOrgId() + " " + a.getEventType() + " " + a.getApiKeyId() + " " + a.getActor() + " period="
              + a.getDetails().get("period") + " rule=" + a.getDetails().get("rule_id") + " day=" + a.getDetails().get("day");
        });
    return new Outcome(new TreeMap<>(metering.localCounters()), days(metering, KeyUsageProcessor.DAILY_STORE),
        days(metering, OrgUsageProcessor.DAILY_STORE), limits, spikes, statuses, audits);
  }

  private static Map<String, UsageTotalsView> days(MeteringApp metering, String store) {
    ReadOnlyWindowStore<String, UsageTotals> windows = metering.streams().store(
        StoreQueryParameters.fromNameAndType(store, QueryableStoreTypes.windowStore()));
    Map<String, UsageTotalsView> days = new TreeMap<>();
    try (KeyValueIterator<Windowed<String>, UsageTotals> all = windows.all()) {
      while (all.hasNext()) {
        KeyValue<Windowed<String>, UsageTotals> day = all.next();
        days.put(day.key.key() + " " + day.key.window().startTime(), UsageTotalsView.of(day.value));
      }
    }
    return days;
  }

  private static <T> Map<String, Integer> count(List<T> items, Function<T, String> identity) {
    Map<String, Integer> counts = new TreeMap<>();
    items.forEach(item -> counts.merge(identity.apply(item), 1, Integer::sum));
    return counts;
  }

  private static void awaitConsumed(MeteringApp metering, long records) throws InterruptedException {
    KafkaTestSupport.await(records + " usage records metered", Duration.ofSeconds(120), () -> {
      try {
        Map<String, Long> c = metering.localCounters();
        return c.getOrDefault("accepted", 0L) + c.getOrDefault("duplicate", 0L) + c.getOrDefault("dead_lettered", 0L)
            >= records;
      } catch (RuntimeException rebalancing) {
        return false;
      }
    });
  }

  /**
   * Waits until {@code group} has committed offsets past the last committed record of every
   * partition of {@code topic} (not its end offset: a transaction's commit marker takes an offset
   * no consumer commits past).
   */
  private static void awaitCaughtUp(EmbeddedKafka kafka, String who, String group, String topic)
      throws InterruptedException {
    Map<TopicPartition, Long> last = new HashMap<>();
    KafkaTestSupport.readAllCommitted(kafka.bootstrapServers(), topic, new ByteArrayDeserializer(),
            new ByteArrayDeserializer())
        .forEach(r -> last.merge(new TopicPartition(r.topic(), r.partition()), r.offset() + 1, Math::max));
    try (Admin admin = Admin.create(KafkaTestSupport.adminConfig(kafka.bootstrapServers()))) {
      KafkaTestSupport.await(who + " to commit all of " + topic, Duration.ofSeconds(120), () -> {
        try {
          var committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
          return last.entrySet().stream().allMatch(e -> committed.get(e.getKey()) != null
              && committed.get(e.getKey()).offset() >= e.getValue());
        } catch (Exception notYet) {
          return false;
        }
      });
    }
  }

  /** The usage both runs receive: keys, rules, a month's events with duplicates, a spike, and bad records. */
  static final class Usage {

    final long from;
    final List<ApiKey> keys = new ArrayList<>();
    final List<AlertRule> rules = new ArrayList<>();
    /** org-0: a soft cost budget with two rules; org-1: a hard token budget that suspends it. */
    final List<OrgBudget> budgets = new ArrayList<>();
    final List<UsageEvent> events = new ArrayList<>();
    final List<ProducerRecord<String, byte[]>> poison = new ArrayList<>();
    /** Whether the range holds a burst day and its baseline a week before (not early in a month). */
    final boolean burst;

    Usage(long seed, long from, long to) {
      this.from = from;
      Random random = new Random(seed);
      int keyCount = 8;
      long days = Math.max(1, (to - from) / 86_400_000L);
      for (int k = 0; k < keyCount; k++) {
        String org = "org-" + (k % 2);
        keys.add(ApiKey.newBuilder().setId("key-" + k).setOrgId(org).setName("key " + k).setKeyPrefix("sk-mtr-x")
            .setSecretHash("00").setPermissions(List.of("messages:write"))
            .setMaxTokensPerMonth(k % 3 == 2 ? null : (days * 250_000L) * (1 + k % 2))
            .setHardLimit(k % 2 == 0).setStatus(ApiKeyStatus.ACTIVE).setCreatedAt(from).setCreatedBy("admin@example.com")
            .setUpdatedAt(from).build());
        if (k % 4 == 0) {
          for (int threshold : new int[] {50, 90}) {
            rules.add(AlertRule.newBuilder().setId("rule-" + k + "-" + threshold).setOrgId(org).setName("r")
                .setApiKeyId("key-" + k).setThresholdPercent(threshold).setNotificationEmail("ops@example.com")
                .setCreatedBy("admin@example.com").setCreatedAt(from).build());
          }
        }
      }
      budgets.add(OrgBudget.newBuilder().setOrgId("org-0").setMaxCostMicrosPerMonth(days * 2_000_000L)
          .setHardLimit(false).setUpdatedBy("admin@example.com").setUpdatedAt(from).build());
      budgets.add(OrgBudget.newBuilder().setOrgId("org-1").setMaxTokensPerMonth(days * 600_000L)
          .setHardLimit(true).setUpdatedBy("admin@example.com").setUpdatedAt(from).build());
      for (int threshold : new int[] {50, 90}) {
        rules.add(AlertRule.newBuilder().setId("rule-org-0-" + threshold).setOrgId("org-0").setName("budget")
            .setApiKeyId(null).setThresholdPercent(threshold).setNotificationEmail("finance@example.com")
            .setCreatedBy("admin@example.com").setCreatedAt(from).build());
      }
      String[] models = {"claude-sonnet-4-5", "claude-haiku-4-5", "unlisted-model"};
      for (int i = 0; i < 12_000; i++) {
        events.add(event(random, "key-" + random.nextInt(keyCount), models[random.nextInt(models.length)],
            from + (long) (random.nextDouble() * (to - from))));
      }
      // key-0 (org-0) bursts on the last whole day: a key spike, and an org spike once org-0's baseline is final
      long burstDay = Math.floorDiv(to, 86_400_000L) * 86_400_000L - 86_400_000L;
      burst = burstDay - 7 * 86_400_000L >= from;
      if (burst) {
        for (int i = 0; i < 1_500; i++) {
          events.add(event(random, "key-0", models[0], burstDay + random.nextInt(86_400_000)));
        }
      }
      events.sort(Comparator.comparingLong(UsageEvent::getTimestamp));
      for (int i = 0; i < 40; i++) {
        byte[] garbage = new byte[1 + random.nextInt(200)];
        random.nextBytes(garbage);
        poison.add(new ProducerRecord<>(Topics.USAGE_EVENTS.name(), "key-" + random.nextInt(keyCount), garbage));
      }
      UsageEvent future = event(random, "key-1", models[0], to + Duration.ofDays(400).toMillis());
      poison.add(usageRecord(future));
      UsageEvent huge = event(random, "key-2", "m".repeat(100_000), to);
      poison.add(usageRecord(huge));
    }

    private static UsageEvent event(Random random, String key, String model, long time) {
      int k = Integer.parseInt(key.substring(4));
      return UsageEvent.newBuilder().setEventId(new UUID(random.nextLong(), random.nextLong()).toString())
          .setOrgId("org-" + (k % 2)).setApiKeyId(key).setModel(model)
          .setInputTokens(random.nextInt(4000)).setOutputTokens(random.nextInt(1000))
          .setCacheCreationInputTokens(random.nextInt(10) == 0 ? random.nextInt(2000) : 0)
          .setCacheReadInputTokens(random.nextInt(3) == 0 ? random.nextInt(8000) : 0)
          .setTimestamp(time).setGatewayId("gw").build();
    }

    /** The usage records in time order, every 25th sent twice, every 500th again with other usage, and the bad ones among them. */
    List<ProducerRecord<String, byte[]>> records() {
      List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
      int nextPoison = 0;
      for (int i = 0; i < events.size(); i++) {
        records.add(usageRecord(events.get(i)));
        if (i % 25 == 0) {
          records.add(usageRecord(events.get(i)));
        }
        if (i % 500 == 250) {
          // another call under the same id: dead-lettered, whichever way the usage arrives
          records.add(usageRecord(UsageEvent.newBuilder(events.get(i)).setOutputTokens(events.get(i).getOutputTokens() + 1)
              .build()));
        }
        if (i % 300 == 150 && nextPoison < poison.size()) {
          records.add(poison.get(nextPoison++));
        }
      }
      records.addAll(poison.subList(nextPoison, poison.size()));
      return records;
    }

    /** The api-keys, alert-rules and org-budgets records, timed at {@code createdAt}. */
    List<ProducerRecord<String, byte[]>> configuration(long createdAt) {
      List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
      keys.forEach(key -> records.add(new ProducerRecord<>(Topics.API_KEYS.name(), null, createdAt, key.getId(),
          Topics.API_KEYS.encode(key))));
      rules.forEach(rule -> records.add(new ProducerRecord<>(Topics.ALERT_RULES.name(), null, createdAt, rule.getId(),
          Topics.ALERT_RULES.encode(rule))));
      budgets.forEach(budget -> records.add(new ProducerRecord<>(Topics.ORG_BUDGETS.name(), null, createdAt,
          budget.getOrgId(), Topics.ORG_BUDGETS.encode(budget))));
      return records;
    }

    private static ProducerRecord<String, byte[]> usageRecord(UsageEvent event) {
      return new ProducerRecord<>(Topics.USAGE_EVENTS.name(), event.getApiKeyId(),
          Topics.USAGE_EVENTS.encode(event));
    }
  }
}
