package dev.metering.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.kafka.KafkaBroker;
import dev.metering.kafka.KafkaTestSupport;
import dev.metering.records.LimitEvent;
import dev.metering.records.UsageEvent;
import dev.metering.records.UsageSpike;
import dev.metering.records.state.MonthState;
import dev.metering.records.state.UsageTotals;
import dev.metering.schemas.Topics;
import dev.metering.schemas.DeadLetterHeaders;
import dev.metering.stream.ingest.IngestCounters;
import dev.metering.stream.limits.KeyLimits;
import dev.metering.stream.pricing.PriceBook;
import dev.metering.stream.usage.KeyUsageProcessor;
import dev.metering.stream.usage.OrgUsageProcessor;
import dev.metering.stream.usage.Periods;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The whole topology on a real broker: a few thousand events with duplicates and bad records. */
class MeteringPipelineIT {

  @RegisterExtension
  static final KafkaBroker kafka = new KafkaBroker(3);



  @Test
  void shouldMatchIndependentlyComputedTotalsAndLimitEventsDespiteDuplicatesAndBadRecords(@TempDir Path stateDir)
      throws Exception {
    long now = System.currentTimeMillis();
    // within the current month, so every limit is evaluated in the month it is checked in
    long from = Math.max(now - Duration.ofHours(36).toMillis(), monthStart(now));
    Workload workload = new Workload(42, 12, 3000, from, now);
    int duplicates = 0;
    int bad = 0;
    try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(kafka.bootstrapServers())) {
      TestCluster.produceLimits(producer, workload);
      for (int i = 0; i < workload.events.size(); i++) {
        UsageEvent event = workload.events.get(i);
        byte[] bytes = Topics.USAGE_EVENTS.encode(event);
        producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(), event.getApiKeyId(), bytes));
        if (i % 10 == 0) {
          producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(), event.getApiKeyId(), bytes));
          duplicates++;
        }
        if (i % 100 == 0) {
          producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(), event.getApiKeyId(),
              ("garbage " + i).getBytes(StandardCharsets.UTF_8)));
          UsageEvent negative = UsageEvent.newBuilder(event).setEventId("neg-" + i).setOutputTokens(-1).build();
          producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(), event.getApiKeyId(),
              Topics.USAGE_EVENTS.encode(negative)));
          bad += 2;
        }
      }
      producer.flush();
    }
    long produced = workload.events.size() + duplicates + bad;

    MeteringConfig config = TestCluster.soloConfig(kafka.bootstrapServers(), "pipeline-it-" + UUID.randomUUID(), stateDir);
    try (MeteringApp app = MeteringApp.start(config, PriceBook.bundled())) {
      assertTrue(app.awaitRunning(Duration.ofSeconds(60)), "RUNNING");
      TestCluster.await(produced + " records consumed", Duration.ofSeconds(120), () -> TestCluster.consumed(app) == produced);
      TestCluster.await("no rebalance or restore in progress", Duration.ofSeconds(60), app::ready);

      Map<String, Long> counters = app.localCounters();
      assertEquals(workload.events.size(), counters.get(IngestCounters.ACCEPTED));
      assertEquals(duplicates, counters.get(IngestCounters.DUPLICATE));
      assertEquals(bad, counters.get(IngestCounters.DEAD_LETTERED));

      TestCluster.assertDaily(workload.expectedDaily(false), TestCluster.windowStore(app, KeyUsageProcessor.DAILY_STORE));
      ReadOnlyWindowStore<String, UsageTotals> orgDaily = TestCluster.windowStore(app, OrgUsageProcessor.DAILY_STORE);
      // org totals are one repartition topic behind the per-key ones
      TestCluster.await("org totals of every accepted event", Duration.ofSeconds(60),
          () -> TestCluster.requests(orgDaily, from, now) == workload.events.size());
      TestCluster.assertDaily(workload.expectedDaily(true), orgDaily);
      ReadOnlyKeyValueStore<String, MonthState> months = app.streams().store(
          StoreQueryParameters.fromNameAndType(KeyLimits.MONTH_STORE, QueryableStoreTypes.keyValueStore()));
      workload.expectedDaily(false).forEach((keyId, days) -> {
        long expectedMonth = days.entrySet().stream()
            .filter(d -> Periods.month(d.getKey()).equals(Periods.month(now)))
            .mapToLong(d -> d.getValue().total()).sum();
        MonthState month = months.get(KeyLimits.monthKey(keyId, Periods.month(now)));
        assertEquals(expectedMonth, dev.metering.stream.usage.Totals.totalTokens(month.getTotals()), keyId);
      });
    }

    List<Workload.ExpectedLimitEvent> expectedLimits = workload.expectedLimitEvents();
    assertTrue(expectedLimits.size() >= 3, "the workload crosses some limits: " + expectedLimits);
    List<ConsumerRecord<String, LimitEvent>> limits = KafkaTestSupport.readCommitted(kafka.bootstrapServers(),
        Topics.LIMIT_EVENTS.name(), new StringDeserializer(), Topics.LIMIT_EVENTS.valueSerde().deserializer(),
        Duration.ofSeconds(30), records -> records.size() >= expectedLimits.size());
    List<Workload.ExpectedLimitEvent> actualLimits = new ArrayList<>();
    limits.forEach(r -> actualLimits.add(Workload.ExpectedLimitEvent.of(r.value())));
    assertEquals(KafkaTestSupport.counts(expectedLimits), KafkaTestSupport.counts(actualLimits));

    int expectedDead = bad;
    List<ConsumerRecord<byte[], byte[]>> dead = KafkaTestSupport.readCommitted(kafka.bootstrapServers(),
        Topics.USAGE_EVENTS_DLQ.name(), new ByteArrayDeserializer(), new ByteArrayDeserializer(),
        Duration.ofSeconds(30), records -> records.size() >= expectedDead);
    assertEquals(bad, dead.size());
    dead.forEach(r -> assertNotNull(r.headers().lastHeader(DeadLetterHeaders.REASON)));

    List<ConsumerRecord<String, UsageSpike>> spikes = KafkaTestSupport.readAllCommitted(kafka.bootstrapServers(),
        Topics.SPIKE_EVENTS.name(), new StringDeserializer(), Topics.SPIKE_EVENTS.valueSerde().deserializer());
    assertEquals(List.of(), spikes, "no baseline week, no spike");
  }


  /** Requests counted in the store, or -1 while a rebalance makes it unreadable. */

  private static long monthStart(long millis) {
    return java.time.YearMonth.from(Instant.ofEpochMilli(millis).atOffset(java.time.ZoneOffset.UTC))
        .atDay(1).atStartOfDay().toInstant(java.time.ZoneOffset.UTC).toEpochMilli();
  }
}
