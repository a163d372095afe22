package dev.metering.bench;

import dev.metering.records.KeyState;
import dev.metering.records.KeyStatus;
import dev.metering.records.LimitEvent;
import dev.metering.records.LimitEventKind;
import dev.metering.records.UsageEvent;
import dev.metering.schemas.RecordSerdes;
import dev.metering.schemas.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.WindowStore;

/** The measuring tools of the harness: end offsets, committed progress, the two baselines, memory, percentiles. */
final class Measure {

  private Measure() {
  }

  static long endOffsets(String bootstrap, String topic) {
    try (KafkaConsumer<byte[], byte[]> consumer = consumer(bootstrap)) {
      List<TopicPartition> partitions = partitions(consumer, topic);
      return consumer.endOffsets(partitions).values().stream().mapToLong(Long::longValue).sum();
    }
  }

  /**
   * Whether {@code groupId} has committed {@code target} offsets of usage-events and everything it
   * wrote to its own repartition topics meanwhile: the work downstream of a repartition (the org
   * totals) is part of the pipeline, and not counting it would overstate throughput and leave a
   * backlog that the latency runs would then measure. A repartition partition is done when at most
   * its last transaction marker lies beyond the committed offset.
   */
  static boolean caughtUp(Admin admin, String groupId, long target) {
    try {
      Map<TopicPartition, OffsetAndMetadata> committed =
          admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata().get();
      if (committedInput(committed) < target) {
        return false;
      }
      List<String> repartition = admin.listTopics().names().get().stream()
          .filter(t -> t.startsWith(groupId + "-") && t.endsWith("-repartition")).toList();
      for (var end : latestOffsets(admin, repartition).entrySet()) {
        OffsetAndMetadata done = committed.get(end.getKey());
        if (end.getValue() - (done == null ? 0 : done.offset()) > 1) {
          return false;
        }
      }
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (Exception notYet) {
      return false;
    }
  }

  /**
   * Waits until {@code groupId} has processed {@code target} usage-events records and all its
   * repartitioned records ({@link #caughtUp}); returns the seconds since {@code startNanos}.
   */
  static double awaitCommitted(String bootstrap, String groupId, long target, long startNanos, Duration timeout,
      Runnable stillRunning) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    // One admin client for the whole wait: a new client per check costs a core's worth of start-up
    // work on this 2-core machine and slows the pipeline being measured.
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      while (!caughtUp(admin, groupId, target)) {
        stillRunning.run();
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(groupId + " did not finish within " + timeout);
        }
        Thread.sleep(200);
      }
    }
    return (System.nanoTime() - startNanos) / 1e9;
  }

  /**
   * Waits for a steady state under the background load: until {@code groupId} commits everything
   * produced to usage-events at some moment within {@code within} of that moment. Starting
   * services (alert-service, KeyGuard) leave a backlog that would otherwise be measured as
   * enforcement latency of the first crossings.
   */
  static void awaitSteady(String bootstrap, String groupId, Duration within, Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      while (System.nanoTime() < deadline) {
        long produced = latestOffsets(admin, List.of(Topics.USAGE_EVENTS.name())).values().stream()
            .mapToLong(Long::longValue).sum();
        long start = System.nanoTime();
        while (committedInput(admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata().get()) < produced
            && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        if (System.nanoTime() - start <= within.toNanos()) {
          return;
        }
      }
    }
    throw new IllegalStateException(groupId + " did not keep up with the background load within " + timeout);
  }

  /** The usage-events offsets among {@code committed}, summed over its partitions. */
  private static long committedInput(Map<TopicPartition, OffsetAndMetadata> committed) {
    return committed.entrySet().stream()
        .filter(e -> e.getKey().topic().equals(Topics.USAGE_EVENTS.name()) && e.getValue() != null)
        .mapToLong(e -> e.getValue().offset()).sum();
  }

  /** The end offset of every partition of {@code topics}. */
  private static Map<TopicPartition, Long> latestOffsets(Admin admin, List<String> topics) throws Exception {
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (TopicDescription topic : admin.describeTopics(topics).allTopicNames().get().values()) {
      topic.partitions().forEach(p -> latest.put(new TopicPartition(topic.name(), p.partition()), OffsetSpec.latest()));
    }
    Map<TopicPartition, Long> ends = new HashMap<>();
    admin.listOffsets(latest).all().get().forEach((partition, info) -> ends.put(partition, info.offset()));
    return ends;
  }

  /** Baseline (a): a plain consumer reading the whole topic, the I/O limit. Returns events/s. */
  static double plainConsumer(String bootstrap, long records) {
    try (KafkaConsumer<byte[], byte[]> consumer = consumer(bootstrap)) {
      List<TopicPartition> partitions = partitions(consumer, Topics.USAGE_EVENTS.name());
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long start = System.nanoTime();
      long read = 0;
      while (read < records) {
        read += consumer.poll(Duration.ofMillis(200)).count();
      }
      return read / ((System.nanoTime() - start) / 1e9);
    }
  }

  /** Baseline (b): Kafka Streams with exactly_once_v2 doing one hourly windowed sum per key. Returns events/s. */
  static double minimalStreams(String bootstrap, long records, Path stateDir, Duration retention) throws Exception {
    String appId = "bench-minimal-" + UUID.randomUUID();
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(Topics.USAGE_EVENTS.name(), Consumed.with(Serdes.String(), RecordSerdes.usageEvent())
            .withTimestampExtractor((record, partitionTime) -> ((UsageEvent) record.value()).getTimestamp()))
        .groupByKey()
        .windowedBy(TimeWindows.ofSizeWithNoGrace(Duration.ofHours(1)))
        .aggregate(() -> 0L, (key, e, sum) -> sum + e.getInputTokens() + e.getOutputTokens()
                + e.getCacheCreationInputTokens() + e.getCacheReadInputTokens(),
            // the pipeline's hourly retention: with the 1-day default, the month of event times in
            // the data rolls a new RocksDB segment every 12 hours of event time, and opening and
            // dropping segments would dominate the baseline instead of the framework's work
            Materialized.<String, Long, WindowStore<Bytes, byte[]>>with(Serdes.String(), Serdes.Long())
                .withRetention(retention));
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createDirectories(stateDir.resolve(appId)).toString());
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    try (KafkaStreams streams = new KafkaStreams(builder.build(), props)) {
      long start = System.nanoTime();
      streams.start();
      double seconds = awaitCommitted(bootstrap, appId, records, start, Duration.ofMinutes(20), () -> { });
      return records / seconds;
    }
  }

  static double percentile(long[] values, double p) {
    if (values.length == 0) {
      return Double.NaN;
    }
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  /**
   * Watches limit-events and key-status as a read_committed consumer and records when each key's
   * LIMIT_BREACHED and SUSPENDED first become readable: the enforcement latency split by hop.
   */
  static final class HopProbe implements AutoCloseable {
    final Map<String, Long> breachedAt = new ConcurrentHashMap<>();
    final Map<String, Long> suspendedAt = new ConcurrentHashMap<>();
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Thread thread;
    private volatile boolean running = true;

    HopProbe(String bootstrap) {
      Properties props = new Properties();
      props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
      List<TopicPartition> partitions = new ArrayList<>(partitions(consumer, Topics.LIMIT_EVENTS.name()));
      partitions.addAll(partitions(consumer, Topics.KEY_STATUS.name()));
      consumer.assign(partitions);
      consumer.seekToEnd(partitions);
      partitions.forEach(consumer::position);
      thread = new Thread(this::run, "hop-probe");
      thread.start();
    }

    private void run() {
      while (running) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(50))) {
          long now = System.nanoTime();
          if (record.topic().equals(Topics.LIMIT_EVENTS.name())) {
            LimitEvent event = Topics.LIMIT_EVENTS.decode(record.value());
            if (event.getKind() == LimitEventKind.LIMIT_BREACHED) {
              breachedAt.putIfAbsent(event.getApiKeyId(), now);
            }
          } else {
            KeyStatus status = Topics.KEY_STATUS.decode(record.value());
            if (status != null && status.getState() == KeyState.SUSPENDED) {
              suspendedAt.putIfAbsent(status.getApiKeyId(), now);
            }
          }
        }
      }
    }

    @Override
    public void close() throws InterruptedException {
      running = false;
      thread.join();
      consumer.close();
    }
  }

  private static KafkaConsumer<byte[], byte[]> consumer(String bootstrap) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
    return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  private static List<TopicPartition> partitions(KafkaConsumer<byte[], byte[]> consumer, String topic) {
    return consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
  }
}
