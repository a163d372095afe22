package dev.metering.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.kafka.KafkaBroker;
import dev.metering.kafka.KafkaTestSupport;
import dev.metering.records.ApiKey;
import dev.metering.records.LimitEvent;
import dev.metering.records.LimitEventKind;
import dev.metering.records.UsageEvent;
import dev.metering.schemas.Topics;
import dev.metering.stream.limits.KeyLimits;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A breach of live usage is readable on limit-events at once, not at the next commit interval;
 * a breach found in old usage (a backfill) waits for the interval like everything else.
 */
class PromptCommitIT {

  @RegisterExtension
  static final KafkaBroker kafka = new KafkaBroker(2);

  /** Far longer than the test: whatever becomes readable before it was committed on request. */
  private static final String COMMIT_INTERVAL = "3m";

  @Test
  void shouldCommitALiveBreachAtOnceAndLeaveABackfilledOneToTheInterval() throws Exception {
    String bootstrap = kafka.bootstrapServers();
    Instant now = Instant.now();
    // the keys as a replayed configuration would carry them: stamped an hour ago
    long configTime = now.minus(Duration.ofHours(1)).toEpochMilli();
    try (MeteringApp app = TestCluster.startInstance(bootstrap, "prompt-commit-it-" + UUID.randomUUID(),
            Map.of("METERING_COMMIT_INTERVAL", COMMIT_INTERVAL, "METERING_ROCKSDB_MEMORY_MB", "64"));
        KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(bootstrap)) {
      assertTrue(app.awaitRunning(Duration.ofSeconds(60)), "RUNNING");
      for (String id : List.of("key-backfilled", "key-live")) {
        ApiKey key = MeteringFixture.key(id, 1_000L, true);
        producer.send(new ProducerRecord<>(Topics.API_KEYS.name(), null, configTime, id, Topics.API_KEYS.encode(key)));
      }
      producer.flush();
      TestCluster.await("both keys in metering-stream's table", Duration.ofSeconds(60),
          () -> known(app, "key-backfilled") && known(app, "key-live"));

      // ten minutes old: a catch-up, not live traffic
      send(producer, MeteringFixture.event("key-backfilled", now.minus(Duration.ofMinutes(10)), 1_500));
      TestCluster.await("the backfilled usage metered", Duration.ofSeconds(60), () -> TestCluster.consumed(app) == 1);
      // a commit asked for would follow within milliseconds; 5 s with nothing readable says none was
      assertEquals(List.of(), readableWithin(bootstrap, Duration.ofSeconds(5)),
          "a backfilled breach waits for the commit interval");

      long sent = System.nanoTime();
      send(producer, MeteringFixture.event("key-live", Instant.now(), 1_500));
      List<ConsumerRecord<String, LimitEvent>> readable = KafkaTestSupport.readCommitted(bootstrap,
          Topics.LIMIT_EVENTS.name(), new StringDeserializer(), Topics.LIMIT_EVENTS.valueSerde().deserializer(),
          Duration.ofSeconds(30), records -> records.stream().anyMatch(r -> r.key().equals("key-live")));
      long waitedMillis = (System.nanoTime() - sent) / 1_000_000;

      // the live breach's commit took the backfilled one with it: both in one transaction
      assertEquals(List.of("key-backfilled", "key-live"), readable.stream()
          .filter(r -> r.value().getKind() == LimitEventKind.LIMIT_BREACHED).map(ConsumerRecord::key).sorted().toList(),
          "breaches readable " + waitedMillis + " ms after the live one was sent (commit interval " + COMMIT_INTERVAL
              + ")");
    }
  }

  private static void send(KafkaProducer<String, byte[]> producer, UsageEvent event) {
    producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(), event.getApiKeyId(),
        Topics.USAGE_EVENTS.encode(event)));
    producer.flush();
  }

  private static boolean known(MeteringApp app, String keyId) {
    try {
      ReadOnlyKeyValueStore<String, ValueAndTimestamp<ApiKey>> keys = app.streams().store(
          StoreQueryParameters.fromNameAndType(KeyLimits.API_KEYS_STORE, QueryableStoreTypes.timestampedKeyValueStore()));
      return keys.get(keyId) != null;
    } catch (InvalidStateStoreException rebalancing) {
      return false;
    }
  }

  /** The keys of the limit events that become readable within {@code window} (stops at the first). */
  private static List<String> readableWithin(String bootstrap, Duration window) {
    return KafkaTestSupport.readCommitted(bootstrap, Topics.LIMIT_EVENTS.name(), new StringDeserializer(),
            Topics.LIMIT_EVENTS.valueSerde().deserializer(), window, records -> !records.isEmpty()).stream()
        .map(ConsumerRecord::key).toList();
  }
}
