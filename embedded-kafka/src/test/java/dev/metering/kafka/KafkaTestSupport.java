package dev.metering.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Producers, read_committed readers and polling with a deadline, shared by every module's integration tests. */
public final class KafkaTestSupport {

  private KafkaTestSupport() {
  }

  /** A broker with every topic of the contract, {@code partitions} partitions each. */
  public static EmbeddedKafka brokerWithTopics(int partitions) {
    return brokerWithTopics(partitions, Map.of());
  }

  /** The same, with broker configs overridden or extended by {@code brokerConfig}. */
  public static EmbeddedKafka brokerWithTopics(int partitions, Map<String, String> brokerConfig) {
    EmbeddedKafka kafka = EmbeddedKafka.start(brokerConfig);
    try (Admin admin = Admin.create(adminConfig(kafka.bootstrapServers()))) {
      TopicSetup.standard(partitions, (short) 1).apply(admin);
    }
    return kafka;
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
      Deserializer<V> values, Duration timeout, Predicate<List<ConsumerRecord<K, V>>> done) {
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

  /**
   * Everything written to a topic before this call, as read_committed sees it once each of those
   * writes' transactions is decided: reads every partition up to its {@link HighWatermarks} at the
   * call, so a write whose commit has just returned is read too.
   */
  public static <K, V> List<ConsumerRecord<K, V>> readAllCommitted(String bootstrap, String topic, Deserializer<K> keys,
      Deserializer<V> values) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<ConsumerRecord<K, V>> records = new ArrayList<>();
    try (KafkaConsumer<K, V> consumer = new KafkaConsumer<>(props, keys, values)) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = HighWatermarks.of(bootstrap, partitions);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("could not read " + topic + " to its end " + end);
        }
        consumer.poll(Duration.ofMillis(100)).forEach(records::add);
      }
    }
    return records;
  }

  /** Polls {@code condition} until it holds; fails naming {@code what} when the deadline passes. */
  public static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what);
      }
      Thread.sleep(50);
    }
  }

  /** Checks {@code condition} every 50 ms for {@code period}; fails naming {@code what} the first time it does not hold. */
  public static void holdsThroughout(String what, Duration period, BooleanSupplier condition)
      throws InterruptedException {
    long end = System.nanoTime() + period.toNanos();
    do {
      if (!condition.getAsBoolean()) {
        throw new AssertionError("no longer held: " + what);
      }
      Thread.sleep(50);
    } while (System.nanoTime() < end);
  }

  /** How often each item occurs. */
  public static <T> Map<T, Integer> counts(List<T> items) {
    Map<T, Integer> counts = new HashMap<>();
    items.forEach(item -> counts.merge(item, 1, Integer::sum));
    return counts;
  }

  /** Sum of the committed offsets of {@code groupId} on {@code topic}; 0 while it has none. */
  public static long committed(String bootstrap, String groupId, String topic) {
    try (Admin admin = Admin.create(adminConfig(bootstrap))) {
      return admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata().get().entrySet().stream()
          .filter(e -> e.getKey().topic().equals(topic) && e.getValue() != null)
          .mapToLong(e -> e.getValue().offset())
          .sum();
    } catch (Exception e) {
      return 0;
    }
  }

  /** Runs {@code mainClass} in a new JVM on this test's classpath, output to {@code log}; kill it to crash it. */
  public static Process startInOtherJvm(Class<?> mainClass, Map<String, String> env, java.nio.file.Path log)
      throws java.io.IOException {
    String javaBin = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder builder = new ProcessBuilder(javaBin, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
        mainClass.getName());
    builder.environment().putAll(env);
    builder.redirectErrorStream(true).redirectOutput(log.toFile());
    return builder.start();
  }

  public static Map<String, Object> adminConfig(String bootstrap) {
    return Map.of("bootstrap.servers", bootstrap);
  }
}
