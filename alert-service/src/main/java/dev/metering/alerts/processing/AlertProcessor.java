package dev.metering.alerts.processing;

import dev.metering.metrics.ServiceMetrics;
import dev.metering.alerts.AlertServiceConfig;
import dev.metering.alerts.decisions.AlertDecisions;
import dev.metering.alerts.decisions.Outputs;
import dev.metering.kafka.KeyPartitions;
import dev.metering.kafka.Transactions;
import dev.metering.alerts.decisions.RuleIndex;
import dev.metering.records.AuditRecord;
import dev.metering.records.KeyState;
import dev.metering.records.KeyStatus;
import dev.metering.records.LimitEvent;
import dev.metering.records.LimitScope;
import dev.metering.records.Notification;
import dev.metering.records.UsageSpike;
import dev.metering.schemas.Topics;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CountDownLatch;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads limit-events and spike-events and writes key-status, notifications and audit-log in one
 * Kafka transaction with the consumed offsets, so a crash anywhere between consume and produce
 * neither loses nor duplicates an output. Also reinstates suspensions at the end of their month,
 * by the clock, for the keys of the partitions it owns: the status of those keys is loaded from
 * key-status whenever partitions are assigned, so a restart across the month boundary reinstates
 * at once.
 */
public final class AlertProcessor implements Runnable, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(AlertProcessor.class);
  private static final Duration POLL = Duration.ofMillis(200);
  /** A transaction that keeps failing is not transient (a record the broker refuses): stop loudly. */
  private static final int MAX_CONSECUTIVE_ABORTS = 5;

  private final AlertServiceConfig config;
  private final Clock clock;
  private final RuleIndex rules;
  private final Predicate<String> revoked;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final KafkaProducer<byte[], byte[]> producer;
  /** Latest status of each key of the owned partitions, as committed. */
  private final Map<String, KeyStatus> statuses = new ConcurrentHashMap<>();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean running = true;
  private volatile Throwable failure;
  /**
   * When to look for lapsed suspensions next, on the monotonic clock: whether one lapsed is
   * decided by the wall clock, but how often to look must not depend on it, or a wall clock
   * stepped back (an NTP correction) would put off every reinstatement by the size of the step.
   */
  private long nextLapseCheckNanos = System.nanoTime();
  private int consecutiveAborts;
  private final MeterRegistry metrics;
  private final Timer enforcementLatency;
  /** The enforcement latencies of the transaction under way, recorded once it commits. */
  private final List<Long> enforced = new ArrayList<>();
  /** What the transaction under way withholds (alerts about long-closed periods), counted once it commits. */
  private final List<Notification> withheld = new ArrayList<>();

  /**
   * @param revoked whether an API key is revoked, by the latest api-keys record known
   */
  public AlertProcessor(AlertServiceConfig config, Clock clock, RuleIndex rules, Predicate<String> revoked,
      MeterRegistry metrics) {
    this.metrics = metrics;
    this.enforcementLatency = Timer.builder("alert.enforcement.latency")
        .description("From metering-stream detecting a hard-limit breach to the suspension committed")
        .publishPercentileHistogram().register(metrics);
    this.config = config;
    this.clock = clock;
    this.rules = rules;
    this.revoked = revoked;
    Properties consumerProps = new Properties();
    consumerProps.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafka().bootstrapServers());
    consumerProps.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
    consumerProps.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, config.instanceId());
    consumerProps.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    consumerProps.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    consumerProps.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    consumerProps.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
    this.consumer = new KafkaConsumer<>(consumerProps, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.producer = new KafkaProducer<>(producerProperties(config), new ByteArraySerializer(),
        new ByteArraySerializer());
  }

  /** The transactional producer's settings: the instance's id, so a restarted instance fences its predecessor. */
  static Properties producerProperties(AlertServiceConfig config) {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafka().bootstrapServers());
    props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    return Transactions.transactional(props, config.instanceId());
  }

  /** The committed status of a key (or, by org_id, an organisation) of an owned partition, or null. */
  public KeyStatus status(String apiKeyId) {
    return statuses.get(apiKeyId);
  }

  @Override
  public void run() {
    try {
      producer.initTransactions();
      consumer.subscribe(List.of(Topics.LIMIT_EVENTS.name(), Topics.SPIKE_EVENTS.name()), new Rebalance());
      while (running) {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL);
        enforced.clear();
        withheld.clear();
        if (!records.isEmpty() && inTransaction(() -> process(records), offsets(records))) {
          enforced.forEach(millis -> enforcementLatency.record(Math.max(0, millis), TimeUnit.MILLISECONDS));
          withheld.forEach(notification -> metrics.counter("alert.notifications.withheld", "channel",
              notification.getChannel().name().toLowerCase(java.util.Locale.ROOT)).increment());
          for (TopicPartition partition : records.partitions()) {
            metrics.counter("alert.events.processed", "topic", partition.topic())
                .increment(records.records(partition).size());
          }
        }
        if (System.nanoTime() - nextLapseCheckNanos >= 0) {
          reinstateLapsed();
          nextLapseCheckNanos = System.nanoTime() + config.lapseCheckInterval().toNanos();
        }
      }
    } catch (WakeupException closing) {
      // close() was called
    } catch (ProducerFencedException | InvalidProducerEpochException | FencedInstanceIdException
        | OutOfOrderSequenceException | AuthorizationException e) {
      failure = e;
      log.error("alert processor stopping: another instance took over or the cluster refused us", e);
    } catch (RuntimeException e) {
      failure = e;
      log.error("alert processor stopping after an unexpected error", e);
    } finally {
      closeClients();
      stopped.countDown();
    }
  }

  /** Why the processor stopped on its own, or null. */
  public Throwable failure() {
    return failure;
  }

  private Map<String, KeyStatus> process(ConsumerRecords<byte[], byte[]> records) {
    Map<String, KeyStatus> pending = new HashMap<>();
    long now = clock.millis();
    for (ConsumerRecord<byte[], byte[]> record : records) {
      Outputs outputs;
      try {
        outputs = decide(record, pending, now);
      } catch (SerializationException | DateTimeException e) {
        // bytes that do not decode, or a period or day that is not a date: skipped and counted, as
        // a record that stopped the processor would stop it again after every restart
        ServiceMetrics.unreadable("alert-processor", record, e);
        continue;
      }
      send(outputs);
      withheld.addAll(outputs.withheld());
      outputs.statuses().forEach(s -> pending.put(statusKey(s), s));
      if (record.topic().equals(Topics.LIMIT_EVENTS.name())
          && outputs.statuses().stream().anyMatch(s -> s.getState() == KeyState.SUSPENDED)) {
        // a suspension: from metering-stream detecting the breach to the suspension (timed once committed)
        enforced.add(now - Topics.LIMIT_EVENTS.decode(record.value()).getDetectedAt());
      }
    }
    return pending;
  }

  private Outputs decide(ConsumerRecord<byte[], byte[]> record, Map<String, KeyStatus> pending, long now) {
    if (record.topic().equals(Topics.LIMIT_EVENTS.name())) {
      LimitEvent event = Topics.LIMIT_EVENTS.decode(record.value());
      if (event == null) {
        return Outputs.empty();
      }
      String scope = event.getScope() == LimitScope.ORG ? event.getOrgId() : event.getApiKeyId();
      KeyStatus current = pending.getOrDefault(scope, statuses.get(scope));
      return AlertDecisions.onLimitEvent(event, rules, current, now, config.closedPeriodNotice());
    }
    UsageSpike spike = Topics.SPIKE_EVENTS.decode(record.value());
    return spike == null ? Outputs.empty() : AlertDecisions.onSpike(spike, rules, now, config.closedPeriodNotice());
  }

  private void reinstateLapsed() {
    long now = clock.millis();
    List<KeyStatus> lapsed = statuses.values().stream()
        .filter(s -> s.getState() == KeyState.SUSPENDED && s.getSuspendedUntil() != null && s.getSuspendedUntil() <= now)
        .toList();
    if (lapsed.isEmpty()) {
      return;
    }
    inTransaction(() -> {
      Map<String, KeyStatus> pending = new HashMap<>();
      for (KeyStatus suspended : lapsed) {
        // an organisation's suspension (no key) lapses like a key's; only a key can be revoked
        boolean isRevoked = suspended.getApiKeyId() != null && revoked.test(suspended.getApiKeyId());
        if (isRevoked) {
          statuses.remove(suspended.getApiKeyId()); // it stays as it was; no need to look at it again
        }
        Outputs outputs = AlertDecisions.onLapse(suspended, rules, isRevoked, now);
        send(outputs);
        outputs.statuses().forEach(s -> pending.put(statusKey(s), s));
      }
      log.info("reinstated {} keys whose suspension ended with the month", pending.size());
      return pending;
    }, Map.of());
  }

  /**
   * Runs {@code work} in a transaction with {@code offsets}; applies its statuses only once
   * committed. On a retriable failure the transaction is aborted and the consumer rewound to
   * the committed offsets, so the same records are processed again.
   */
  /** Runs {@code work} and commits it with {@code offsets}; false when it was aborted (and rewound). */
  private boolean inTransaction(java.util.function.Supplier<Map<String, KeyStatus>> work,
      Map<TopicPartition, OffsetAndMetadata> offsets) {
    producer.beginTransaction();
    try {
      Map<String, KeyStatus> pending = work.get();
      if (!offsets.isEmpty()) {
        producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
      }
      producer.commitTransaction();
      statuses.putAll(pending);
      consecutiveAborts = 0;
      count(pending);
      return true;
    } catch (ProducerFencedException | InvalidProducerEpochException | FencedInstanceIdException
        | OutOfOrderSequenceException | AuthorizationException fatal) {
      throw fatal;
    } catch (KafkaException e) {
      producer.abortTransaction();
      if (++consecutiveAborts >= MAX_CONSECUTIVE_ABORTS) {
        throw new IllegalStateException("gave up after " + consecutiveAborts + " aborted transactions in a row", e);
      }
      log.warn("aborted a transaction ({} in a row); processing its records again: {}", consecutiveAborts,
          e.getMessage());
      rewind();
      return false;
    }
  }

  /** Counts the key states a committed transaction wrote (suspensions and reinstatements). */
  private void count(Map<String, KeyStatus> written) {
    written.values().forEach(status -> metrics.counter("alert.key.states", "state",
        status.getState().name().toLowerCase(java.util.Locale.ROOT)).increment());
  }

  private void rewind() {
    Set<TopicPartition> assignment = consumer.assignment();
    Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(assignment);
    for (TopicPartition partition : assignment) {
      OffsetAndMetadata offset = committed.get(partition);
      if (offset != null) {
        consumer.seek(partition, offset);
      } else {
        consumer.seekToBeginning(List.of(partition));
      }
    }
  }

  private void send(Outputs outputs) {
    for (KeyStatus status : outputs.statuses()) {
      producer.send(new ProducerRecord<>(Topics.KEY_STATUS.name(), bytes(statusKey(status)),
          Topics.KEY_STATUS.encode(status)));
    }
    for (Notification notification : outputs.notifications()) {
      producer.send(new ProducerRecord<>(Topics.NOTIFICATIONS.name(), bytes(notification.getId()),
          Topics.NOTIFICATIONS.encode(notification)));
    }
    for (AuditRecord audit : outputs.audits()) {
      producer.send(new ProducerRecord<>(Topics.AUDIT_LOG.name(), bytes(audit.getOrgId()),
          Topics.AUDIT_LOG.encode(audit)));
    }
  }

  /**
   * A status's key on key-status: its api_key_id, or the org_id for an organisation's own status,
   * which is where the org's limit events are keyed on limit-events too, so both land in the same
   * partition number and this instance owns both.
   */
  static String statusKey(KeyStatus status) {
    return status.getApiKeyId() != null ? status.getApiKeyId() : status.getOrgId();
  }

  private static Map<TopicPartition, OffsetAndMetadata> offsets(ConsumerRecords<byte[], byte[]> records) {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    for (TopicPartition partition : records.partitions()) {
      List<ConsumerRecord<byte[], byte[]>> of = records.records(partition);
      offsets.put(partition, new OffsetAndMetadata(of.get(of.size() - 1).offset() + 1));
    }
    return offsets;
  }

  private static byte[] bytes(String key) {
    return key.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  /** Loads the key-status of newly owned partitions; forgets those of revoked ones. */
  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      forget(partitions);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      forget(partitions);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      Set<Integer> numbers = limitPartitions(partitions);
      if (!numbers.isEmpty()) {
        statuses.putAll(KeyStatusLoader.load(config.kafka().bootstrapServers(), numbers));
        log.info("owning limit-events partitions {}: {} key statuses loaded", numbers, statuses.size());
      }
      nextLapseCheckNanos = System.nanoTime();
    }

    private void forget(Collection<TopicPartition> partitions) {
      Set<Integer> numbers = limitPartitions(partitions);
      if (!numbers.isEmpty()) {
        int count = consumer.partitionsFor(Topics.KEY_STATUS.name()).size();
        statuses.keySet().removeIf(key -> numbers.contains(KeyPartitions.of(key, count)));
      }
    }

    private Set<Integer> limitPartitions(Collection<TopicPartition> partitions) {
      return partitions.stream().filter(p -> p.topic().equals(Topics.LIMIT_EVENTS.name()))
          .map(TopicPartition::partition).collect(Collectors.toSet());
    }
  }

  /** Waits until the processor stopped. */
  public void awaitStopped() throws InterruptedException {
    stopped.await();
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void closeClients() {
    try {
      consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ofSeconds(5)));
    } catch (RuntimeException e) {
      log.warn("closing the consumer failed", e);
    }
    producer.close(Duration.ofSeconds(10));
  }

  /** For tests and diagnostics: the statuses currently held. */
  public List<KeyStatus> statuses() {
    return new ArrayList<>(statuses.values());
  }
}
