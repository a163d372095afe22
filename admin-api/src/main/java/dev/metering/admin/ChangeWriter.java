package dev.metering.admin;

import dev.metering.admin.http.ApiError;
import dev.metering.kafka.KeyPartitions;
import dev.metering.kafka.TopicView;
import dev.metering.kafka.Transactions;
import dev.metering.records.AuditRecord;
import dev.metering.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one change of the control plane (an api-keys or alert-rules record) together with its
 * audit records in one Kafka transaction: a change is never visible without its audit trail, nor
 * the trail without the change.
 *
 * <p>Every change is conditional on the state it was computed from, across all admin-api
 * instances: each partition of a table has one transactional id shared by every instance
 * ({@code metering-admin-<topic>-<partition>}). An instance that starts writing a partition
 * initialises that id, which fences any other instance's producer and completes its open
 * transaction; it then reads the partition up to its last stable offset and checks the
 * condition. A write racing another instance's therefore either sees that write or is fenced
 * (and tried again from the new state), so a rotate racing an update can never restore the old
 * secret, nor an update un-revoke a key. A creation under a cap (an organisation's keys, a
 * key's alert rules) is fenced by its organisation instead ({@link #writeInOrg}), and counts the
 * rows of every partition once it holds the fence, so instances racing cannot pass the cap
 * together. A fenced or timed-out producer is replaced, never
 * reused; when no producer can be made the writer reports itself unhealthy and changes answer
 * 503 until one can. While unhealthy it tries, every {@link #PROBE_EVERY}, to initialise a
 * transactional id of its own: an instance taken out of rotation by its readiness receives no
 * change that could show it healthy again, so it finds out for itself once Kafka is back.
 */
public final class ChangeWriter implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ChangeWriter.class);
  private static final int ATTEMPTS = 5;
  private static final Duration SYNC_TIMEOUT = Duration.ofSeconds(10);
  /** How often an unhealthy writer tries whether Kafka takes transactions again. */
  static final Duration PROBE_EVERY = Duration.ofSeconds(2);

  /** A conditional change that found its row changed by another request since it was read: 409. */
  public static final class Raced extends ApiError {
    Raced() {
      super(409, "conflict_error", "it was changed at the same time by another request; read it again and retry",
          null);
    }
  }

  /** The row a conditional change is about, as this instance's view of its table holds it. */
  public interface Target {
    /** Reads the table's {@code partition} up to everything committed to it so far. */
    void catchUp(int partition, Duration timeout) throws InterruptedException;

    /** Whether the row still is what the change was computed from. */
    boolean unchanged();

    /** Whether the row already holds this very change (a commit that timed out, yet happened). */
    boolean applied();

    /**
     * Makes the committed change visible to this instance's reads, before the next change to the
     * partition is checked (the view reads it back later; that changes nothing).
     */
    void written(long offset);
  }

  /**
   * The row {@code id} of a table read through {@code view}: the change to {@code next} holds if
   * the row is still {@code expected} (null: it must not exist yet).
   */
  public static <V> Target row(TopicView<String, V> view, String id, V expected, V next) {
    return new Target() {
      @Override
      public void catchUp(int partition, Duration timeout) throws InterruptedException {
        view.sync(partition, timeout);
      }

      @Override
      public boolean unchanged() {
        return java.util.Objects.equals(view.get(id), expected);
      }

      @Override
      public boolean applied() {
        return java.util.Objects.equals(view.get(id), next);
      }

      @Override
      public void written(long offset) {
        view.applyWrite(id, next, offset);
      }
    };
  }

  private final String bootstrapServers;
  private final String clientId;
  /** Per topic partition, this instance's producer for it; null until needed or after a failure. */
  private final Map<String, Slot> slots = new ConcurrentHashMap<>();
  /** Per audit-log partition, the offset of the last audit record this writer committed. */
  private final Map<Integer, Long> auditWritten = new ConcurrentHashMap<>();
  private final Map<String, Integer> partitionCounts = new ConcurrentHashMap<>();
  private volatile boolean healthy = true;
  private final ScheduledExecutorService prober =
      Executors.newSingleThreadScheduledExecutor(task -> {
        Thread thread = new Thread(task, "change-writer-probe");
        thread.setDaemon(true);
        return thread;
      });
  private final AtomicBoolean probing = new AtomicBoolean();

  private static final class Slot {
    KafkaProducer<byte[], byte[]> producer;
  }

  public ChangeWriter(String bootstrapServers, String instanceId) {
    this.bootstrapServers = bootstrapServers;
    this.clientId = instanceId;
  }

  /**
   * Writes {@code value} (null: a tombstone) under {@code key} to {@code topic} with the audit
   * records, if {@code target} is unchanged once this instance holds the partition; returns the
   * offset of the change once the transaction is committed and the change is visible here (-1
   * when a commit that seemed to fail turned out to have happened).
   *
   * @throws ApiError 409 when the row changed since it was read, 503 when Kafka cannot take the change now
   */
  public long write(String topic, String key, byte[] value, List<AuditRecord> audits, Target target) {
    int partition = partition(topic, key);
    return write(topic + "-" + partition, topic, partition, key, value, audits, target);
  }

  /**
   * {@link #write}, serialised across instances with every other creation in {@code orgId}'s
   * organisation rather than with the changes to the row's partition: for a condition over many
   * rows, such as a cap on how many an organisation may have, which {@link #counted} checks once
   * this instance holds the organisation's fence (one transactional id per audit-log partition,
   * where the organisation's audit records go).
   */
  public long writeInOrg(String orgId, String topic, String key, byte[] value, List<AuditRecord> audits,
      Target target) {
    String fence = "orgs-" + partition(Topics.AUDIT_LOG.name(), orgId);
    return write(fence, topic, partition(topic, key), key, value, audits, target);
  }

  /**
   * A new row {@code id} of a table read through {@code view}, which {@code requireRoom} (run
   * after every partition of the table has been read to what is committed) may refuse by throwing.
   */
  public <V> Target counted(TopicView<String, V> view, String topic, String id, V next, Runnable requireRoom) {
    Target row = row(view, id, null, next);
    return new Target() {
      @Override
      public void catchUp(int partition, Duration timeout) throws InterruptedException {
        // the rows counted lie in every partition; the fence is what orders their creations
        for (int p = 0; p < partitionCount(topic); p++) {
          view.sync(p, timeout);
        }
      }

      @Override
      public boolean unchanged() {
        requireRoom.run();
        return row.unchanged();
      }

      @Override
      public boolean applied() {
        return row.applied();
      }

      @Override
      public void written(long offset) {
        row.written(offset);
      }
    };
  }

  private long write(String fence, String topic, int partition, String key, byte[] value, List<AuditRecord> audits,
      Target target) {
    Slot slot = slots.computeIfAbsent(fence, k -> new Slot());
    synchronized (slot) {
      RuntimeException last = null;
      for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
        long began = System.nanoTime();
        boolean fresh = slot.producer == null;
        boolean obtained = !fresh;
        try {
          if (fresh) {
            slot.producer = producer(fence);
            target.catchUp(partition, SYNC_TIMEOUT);
            healthy = true;
            obtained = true;
            if (last != null && target.applied()) {
              return -1; // the previous attempt committed after all, and the view has read it
            }
          }
          if (!target.unchanged()) {
            throw new Raced();
          }
          long offset = commit(slot.producer, topic, partition, key, value, audits);
          target.written(offset);
          return offset;
        } catch (ProducerFencedException | InvalidProducerEpochException e) {
          // another instance took this partition over: start again from what it wrote
          log.info("changes under {} moved to another admin-api instance; taking them back", fence);
          last = e;
          discard(slot);
          // two instances taking a fence back from each other at the same pace can fence each
          // other's every attempt (an attempt that starts from a new producer takes up to a
          // second when the fence is contended): a random pause as long as the attempt that was
          // lost, times the attempts made, lets the other one finish
          pause(attempt, System.nanoTime() - began);
        } catch (KafkaException | IllegalStateException e) {
          log.warn("writing a change under {} failed (attempt {} of {}): {}", fence, attempt, ATTEMPTS,
              e.getMessage());
          last = e;
          discard(slot);
          if (!obtained) {
            // not even a new producer can reach the cluster: say so now rather than wait again
            unreachable();
            break;
          }
          // a commit the broker failed, such as an EndTxn that met another instance's fencing of
          // the same id (Kafka 4.3's coordinator answers that one UNKNOWN_SERVER_ERROR): the next
          // attempt starts from a new producer
          pause(attempt, 0);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          discard(slot);
          throw new ApiError(503, "unavailable_error", "interrupted while writing the change; retry", null);
        }
      }
      throw new ApiError(503, "unavailable_error", "the change could not be written to Kafka now ("
          + (last == null ? "unknown" : last.getMessage()) + "); retry", null);
    }
  }

  /** A random pause of up to {@code attempt} times the longer of 10 ms and {@code lostNanos}. */
  private static void pause(int attempt, long lostNanos) {
    try {
      long bound = attempt * Math.max(10, TimeUnit.NANOSECONDS.toMillis(lostNanos));
      Thread.sleep(java.util.concurrent.ThreadLocalRandom.current().nextLong(bound + 1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiError(503, "unavailable_error", "interrupted while writing the change; retry", null);
    }
  }

  private long commit(KafkaProducer<byte[], byte[]> producer, String topic, int partition, String key, byte[] value,
      List<AuditRecord> audits) throws InterruptedException {
    producer.beginTransaction();
    Future<RecordMetadata> change = producer.send(new ProducerRecord<>(topic, partition, bytes(key), value));
    List<Future<RecordMetadata>> trail = new ArrayList<>();
    for (AuditRecord audit : audits) {
      trail.add(producer.send(new ProducerRecord<>(Topics.AUDIT_LOG.name(), bytes(audit.getOrgId()),
          Topics.AUDIT_LOG.encode(audit))));
    }
    producer.commitTransaction();
    try {
      for (Future<RecordMetadata> written : trail) {
        auditWritten.merge(written.get().partition(), written.get().offset(), Math::max);
      }
      return change.get().offset();
    } catch (ExecutionException e) {
      // unreachable once the commit succeeded; reported like any write failure
      throw new KafkaException("cannot read the offsets of a committed change", e.getCause());
    }
  }

  private void unreachable() {
    healthy = false;
    if (probing.compareAndSet(false, true)) {
      scheduleProbe();
    }
  }

  private void scheduleProbe() {
    try {
      prober.schedule(this::probe, PROBE_EVERY.toMillis(), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException closed) {
      probing.set(false);
    }
  }

  /** Initialises this instance's own transactional id (fencing nobody else's) and closes it. */
  private void probe() {
    if (healthy) {
      probing.set(false); // a change got through meanwhile
      return;
    }
    try {
      producer("probe-" + clientId).close(Duration.ZERO);
      healthy = true;
      probing.set(false);
      log.info("Kafka takes transactions again: changes are accepted");
    } catch (RuntimeException e) {
      // whatever it was, the next probe tries again: an escaped exception would end the probing for good
      log.debug("Kafka does not take transactions yet: {}", e.getMessage());
      scheduleProbe();
    }
  }

  /**
   * Whether the last attempt to obtain a producer succeeded (a change's, or the probe's once
   * none could): what /health/ready reports.
   */
  public boolean healthy() {
    return healthy;
  }

  /** The offset of the last audit record this writer committed to audit-log {@code partition}, or -1. */
  public long auditWrittenThrough(int partition) {
    return auditWritten.getOrDefault(partition, -1L);
  }

  /** The partition of {@code key} in {@code topic}, as Kafka's default partitioner picks it. */
  public int partition(String topic, String key) {
    return KeyPartitions.of(key, partitionCount(topic));
  }

  private int partitionCount(String topic) {
    return partitionCounts.computeIfAbsent(topic, t -> {
      try (KafkaProducer<byte[], byte[]> probe = new KafkaProducer<>(common(), new ByteArraySerializer(),
          new ByteArraySerializer())) {
        return probe.partitionsFor(t).size();
      }
    });
  }

  /** The producer of {@code fence} ({@code <topic>-<partition>} or {@code orgs-<n>}), shared by every instance. */
  private KafkaProducer<byte[], byte[]> producer(String fence) {
    Properties props = Transactions.transactional(common(), "metering-admin-" + fence);
    props.put(ProducerConfig.CLIENT_ID_CONFIG, clientId + "-" + fence);
    KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(),
        new ByteArraySerializer());
    try {
      producer.initTransactions();
      return producer;
    } catch (RuntimeException e) {
      producer.close(Duration.ZERO);
      throw e;
    }
  }

  private Properties common() {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 5_000);
    props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 15_000);
    props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
    // initialising a contended fence is answered CONCURRENT_TRANSACTIONS until the other holder's
    // transaction is aborted, a few milliseconds; the default backoff grows to a second per retry
    props.put(ProducerConfig.RETRY_BACKOFF_MAX_MS_CONFIG, 100);
    return props;
  }

  private static void discard(Slot slot) {
    if (slot.producer != null) {
      try {
        slot.producer.close(Duration.ZERO);
      } catch (RuntimeException ignored) {
        // it is being replaced
      }
      slot.producer = null;
    }
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    prober.shutdownNow();
    slots.values().forEach(slot -> {
      synchronized (slot) {
        if (slot.producer != null) {
          slot.producer.close(Duration.ofSeconds(10));
          slot.producer = null;
        }
      }
    });
  }
}
