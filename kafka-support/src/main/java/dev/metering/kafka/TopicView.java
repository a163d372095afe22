package dev.metering.kafka;

import dev.metering.metrics.ServiceMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A continuously updated local copy of a compacted topic: every partition read from the
 * beginning (read_committed, no consumer group), latest value per key, tombstones remove.
 * It is caught up once it has read up to the end offsets the topic had when it started;
 * {@link #sync} waits until it has read everything committed to a partition so far. It is
 * healthy while its reading thread runs: a view that stopped serves a frozen copy, and its users
 * must treat it as not ready. Records that do not deserialize are logged with their coordinates
 * and skipped, and so are records in another partition than their key's: every writer partitions
 * by key with Kafka's default partitioner, and a key's records are ordered by offset within its
 * partition only, so a stray copy elsewhere (a restore with another tool) could otherwise win over
 * newer records of the key (an active copy over its revocation) or be undone by older ones.
 *
 * <p>A consumer that cannot reach its brokers does not fail: it polls nothing, for ever, and the
 * view would serve a frozen copy while looking healthy. So once caught up the view asks for the
 * topic's committed end offsets every second, and {@link #confirmedAge} says how long ago it last
 * knew it had read everything committed (a revocation or a suspension written since may be
 * missing from the copy for at most that long).
 */
public final class TopicView<K, V> implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TopicView.class);

  private final String topic;
  private final Deserializer<K> keys;
  private final Deserializer<V> values;
  private final KafkaConsumer<byte[], byte[]> consumer;
  /** Latest value per key with the offset it was written at; a null value is a deletion. */
  private final Map<K, Versioned<V>> latest = new ConcurrentHashMap<>();
  private final CountDownLatch caughtUp = new CountDownLatch(1);
  private final List<BiConsumer<K, V>> listeners = new ArrayList<>();
  private final Thread thread;
  private final MisplacedRecords misplaced;
  private volatile boolean running = true;
  private volatile Throwable failure;
  /** System.nanoTime() of the last end-offsets request whose offsets this view has read up to (once caught up). */
  private volatile long confirmedAt;
  private static final long CONFIRM_EVERY_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final Duration CONFIRM_TIMEOUT = Duration.ofSeconds(2);
  /** Waits for a partition's committed end, asked by {@link #sync}; handled by the reading thread. */
  private final java.util.concurrent.ConcurrentLinkedQueue<Sync> syncs = new java.util.concurrent.ConcurrentLinkedQueue<>();

  private static final class Sync {
    final TopicPartition partition;
    final java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
    long target = -1;

    Sync(TopicPartition partition) {
      this.partition = partition;
    }
  }

  private TopicView(String bootstrapServers, String topic, Deserializer<K> keys, Deserializer<V> values) {
    this.topic = Objects.requireNonNull(topic, "topic");
    this.keys = keys;
    this.values = values;
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, "view-" + topic + "-" + UUID.randomUUID());
    this.consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.misplaced = new MisplacedRecords("view-" + topic, topic,
        "a copy there could win over the key's newer records (an active copy over its revocation)");
    this.thread = new Thread(this::run, "view-" + topic);
    this.thread.setDaemon(true);
  }

  /**
   * Starts reading {@code topic}; {@code listener}, if any, sees every update as it is applied, a
   * key's in order (while the key's entry is held: it must be quick and must not read this view).
   */
  public static <K, V> TopicView<K, V> start(String bootstrapServers, String topic, Deserializer<K> keys,
      Deserializer<V> values, BiConsumer<K, V> listener) {
    TopicView<K, V> view = new TopicView<>(bootstrapServers, topic, keys, values);
    if (listener != null) {
      view.listeners.add(listener);
    }
    view.thread.start();
    return view;
  }

  private record Versioned<V>(long offset, V value) {
  }

  public V get(K key) {
    Versioned<V> entry = latest.get(key);
    return entry == null ? null : entry.value();
  }

  /** Every key's latest value, live and without copying (weakly consistent while updates arrive). */
  public java.util.stream.Stream<V> values() {
    return latest.values().stream().map(Versioned::value).filter(java.util.Objects::nonNull);
  }


  /**
   * Applies a write this process has just produced at {@code offset}, so its own reads see it at
   * once; the copy read back from the topic later changes nothing, and an older record read back
   * afterwards cannot overwrite it (a key's records all sit in one partition, in offset order).
   * Records read from the topic come the same way. A value newer than the key's is kept and the
   * listeners told while the key's entry is held, so they see a key's changes in the order applied
   * even when this process's own write and the reading thread race (an index fed out of order
   * would keep the older value).
   */
  public void applyWrite(K key, V value, long offset) {
    latest.compute(key, (k, current) -> {
      if (current != null && current.offset() >= offset) {
        return current;
      }
      listeners.forEach(listener -> listener.accept(key, value));
      return new Versioned<>(offset, value);
    });
  }

  public boolean isCaughtUp() {
    return caughtUp.getCount() == 0;
  }

  /**
   * How long ago the view last knew it held everything committed to the topic (when it asked for
   * the end offsets it had then read up to); null until caught up.
   */
  public Duration confirmedAge() {
    return isCaughtUp() ? Duration.ofNanos(System.nanoTime() - confirmedAt) : null;
  }

  /**
   * How long a view that decides who may do what (gateways' KeyGuard, admin-api's authentication)
   * may go without confirming it is current before its user refuses to decide: a few seconds of a
   * broker's leader election pass unnoticed, a process cut off from Kafka stops judging keys whose
   * revocation or suspension it could be missing.
   */
  public static final Duration MAX_UNCONFIRMED = Duration.ofSeconds(15);

  /**
   * Whether the view can be decided by: caught up, still reading, and confirmed current within
   * {@code maxUnconfirmed}.
   */
  public boolean current(Duration maxUnconfirmed) {
    return isCaughtUp() && healthy() && confirmedAge().compareTo(maxUnconfirmed) <= 0;
  }

  /** Whether the view is still reading: false once its thread stopped on an error (or was closed). */
  public boolean healthy() {
    return thread.isAlive() && failure == null;
  }

  /**
   * Waits until this view has read everything committed to {@code partition} before the call
   * (its last stable offset), so a read that follows sees every write committed so far.
   */
  public void sync(int partition, Duration timeout) throws InterruptedException {
    Sync sync = new Sync(new TopicPartition(topic, partition));
    syncs.add(sync);
    if (isCaughtUp()) {
      // the reading loop is running and takes a wake-up as "a sync is waiting"; before that the
      // set-up calls would take it as "closing", and the loop serves syncs within 200 ms anyway
      consumer.wakeup();
    }
    try {
      sync.done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("view of " + topic + " cannot catch up: " + e.getCause().getMessage(), e.getCause());
    } catch (java.util.concurrent.TimeoutException e) {
      syncs.remove(sync);
      throw new IllegalStateException("view of " + topic + " did not catch up with partition " + partition + " within "
          + timeout);
    }
  }

  /** Sets the targets of new syncs and completes those reached; runs on the reading thread. */
  private void serveSyncs(List<Sync> waiting) {
    for (Sync sync = syncs.poll(); sync != null; sync = syncs.poll()) {
      waiting.add(sync);
    }
    for (java.util.Iterator<Sync> it = waiting.iterator(); it.hasNext(); ) {
      Sync sync = it.next();
      if (sync.target < 0) {
        sync.target = consumer.endOffsets(List.of(sync.partition)).get(sync.partition);
      }
      if (consumer.position(sync.partition) >= sync.target) {
        sync.done.complete(null);
        it.remove();
      }
    }
  }

  /** Waits until caught up; throws if the view failed or the deadline passed. */
  public void awaitCaughtUp(Duration timeout) throws InterruptedException {
    if (!caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException("view of " + topic + " did not catch up within " + timeout
          + (failure == null ? "" : ": " + failure.getMessage()), failure);
    }
  }

  private void run() {
    try {
      List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
          .map(p -> new TopicPartition(topic, p.partition()))
          .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long targetAt = System.nanoTime();
      Map<TopicPartition, Long> target = consumer.endOffsets(partitions);
      int partitionCount = partitions.size();
      List<Sync> waiting = new ArrayList<>();
      Confirmation confirming = null;
      while (running) {
        try {
          // a sync waiting (or just asked for) is served after a short poll, not after a long one
          boolean syncing = !waiting.isEmpty() || !syncs.isEmpty();
          for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(syncing ? 5 : 200))) {
            if (!misplaced.check(record.key(), record.value() == null, record.partition(), partitionCount)) {
              apply(record);
            }
          }
          serveSyncs(waiting);
          if (caughtUp.getCount() > 0) {
            if (readUpTo(target)) {
              log.info("view of {} caught up: {} keys", topic, latest.size());
              confirmedAt = targetAt;
              caughtUp.countDown();
            }
          } else {
            confirming = confirm(confirming, partitions);
          }
        } catch (WakeupException woken) {
          if (!running) {
            throw woken;
          }
          // a sync was asked for: served on the next round (and the end offsets asked for again)
          confirming = null;
        }
      }
    } catch (WakeupException closing) {
      // close() was called
    } catch (RuntimeException e) {
      failure = e;
      log.error("view of {} stopped", topic, e);
    } finally {
      consumer.close();
      Throwable cause = failure != null ? failure : new IllegalStateException("view of " + topic + " closed");
      syncs.forEach(sync -> sync.done.completeExceptionally(cause));
    }
  }

  /** End offsets asked for at {@code askedAt}; once read up to, the view held everything committed then. */
  private record Confirmation(long askedAt, Map<TopicPartition, Long> ends) {
  }

  private boolean readUpTo(Map<TopicPartition, Long> ends) {
    return ends.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue());
  }

  /**
   * Moves {@link #confirmedAt} on once the view has read up to the end offsets last asked for, and
   * asks again a second after the last confirmation. An unreachable broker makes the request time
   * out: the confirmation then grows old, which is what readers of the view look at.
   */
  private Confirmation confirm(Confirmation pending, List<TopicPartition> partitions) {
    if (pending != null && readUpTo(pending.ends())) {
      confirmedAt = pending.askedAt();
      pending = null;
    }
    if (pending == null && System.nanoTime() - confirmedAt >= CONFIRM_EVERY_NANOS) {
      long askedAt = System.nanoTime();
      try {
        pending = new Confirmation(askedAt, consumer.endOffsets(partitions, CONFIRM_TIMEOUT));
      } catch (org.apache.kafka.common.errors.TimeoutException unreachable) {
        return null; // asked again on the next round
      }
    }
    return pending;
  }

  private void apply(ConsumerRecord<byte[], byte[]> record) {
    K key;
    V value;
    try {
      key = keys.deserialize(record.topic(), record.key());
      value = values.deserialize(record.topic(), record.value());
    } catch (SerializationException e) {
      ServiceMetrics.unreadable("view-" + topic, record, e);
      return;
    }
    if (key != null) {
      applyWrite(key, value, record.offset());
    }
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
