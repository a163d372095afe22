package dev.metering.stream;

import java.time.Duration;
import dev.metering.schemas.Topics;
import dev.metering.stream.ingest.IngestCounters;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.errors.InvalidStateStoreException;

/** Producers, read_committed consumers and polling with a deadline, for integration tests. */
public final class TestCluster {

  private TestCluster() {
  }

  public static KafkaProducer<String, byte[]> producer(String bootstrap) {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    return new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
  }

  /** Reads a topic from the beginning with read_committed until {@code done} holds or the deadline passes. */
  public static <K, V> List<ConsumerRecord<K, V>> readCommitted(String bootstrap, String topic, Deserializer<K> keys,
      Deserializer<V> values, Duration timeout, java.util.function.Predicate<List<ConsumerRecord<K, V>>> done) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "it-reader-" + UUID.randomUUID());
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<ConsumerRecord<K, V>> records = new ArrayList<>();
    try (KafkaConsumer<K, V> consumer = new KafkaConsumer<>(props, keys, values)) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline && !done.test(records)) {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
    }
    return records;
  }

  /** Polls {@code condition} until it holds; fails with {@code what} when the deadline passes. */
  public static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what);
      }
      Thread.sleep(100);
    }
  }

  /** Records the app has consumed so far by its exact counters, or -1 while its stores are unavailable. */
  public static long consumed(MeteringApp app) {
    try {
      Map<String, Long> counters = app.localCounters();
      return counters.getOrDefault(IngestCounters.ACCEPTED, 0L) + counters.getOrDefault(IngestCounters.DUPLICATE, 0L)
          + counters.getOrDefault(IngestCounters.DEAD_LETTERED, 0L);
    } catch (InvalidStateStoreException rebalancing) {
      return -1;
    }
  }

  /** How often each item occurs. */
  public static <T> Map<T, Integer> counts(List<T> items) {
    Map<T, Integer> counts = new HashMap<>();
    items.forEach(item -> counts.merge(item, 1, Integer::sum));
    return counts;
  }

  /** Produces the workload's keys and rules, then each of its events once. */
  public static void produce(String bootstrap, Workload workload) {
    try (KafkaProducer<String, byte[]> producer = producer(bootstrap)) {
      workload.keys.forEach(key -> producer.send(new ProducerRecord<>(Topics.API_KEYS.name(), key.getId(),
          Topics.API_KEYS.valueSerde().serializer().serialize(Topics.API_KEYS.name(), key))));
      workload.rules.forEach(rule -> producer.send(new ProducerRecord<>(Topics.ALERT_RULES.name(), rule.getId(),
          Topics.ALERT_RULES.valueSerde().serializer().serialize(Topics.ALERT_RULES.name(), rule))));
      workload.events.forEach(event -> producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(),
          event.getApiKeyId(), Topics.USAGE_EVENTS.valueSerde().serializer().serialize(Topics.USAGE_EVENTS.name(), event))));
      producer.flush();
    }
  }

  public static Map<String, Object> adminConfig(String bootstrap) {
    return Map.of("bootstrap.servers", bootstrap);
  }
}
