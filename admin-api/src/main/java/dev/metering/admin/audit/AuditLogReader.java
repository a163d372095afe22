package dev.metering.admin.audit;

import dev.metering.config.Durations;
import dev.metering.kafka.KeyPartitions;
import dev.metering.metrics.ServiceMetrics;
import dev.metering.records.AuditRecord;
import dev.metering.admin.http.OrgShares;
import dev.metering.schemas.AuditEventType;
import dev.metering.schemas.Topics;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.IntToLongFunction;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads an organisation's audit records for a time range straight from audit-log: the org's
 * records all sit in the partition of its id, {@code offsetsForTimes} finds where the range
 * starts, and reading stops where it ends, so a query costs what its range holds, not the whole
 * log. Newest first, paged by offset.
 *
 * <p>A read holds the page it is making and nothing of the records it passes: a range of millions
 * of records takes time to read (at most {@link #READ_TIMEOUT}, then a 503), never the memory they
 * would take.
 *
 * <p>alert-service writes a delivery's outcome (alert_delivered, alert_delivery_failed) at least
 * once: again, under the same id, when a write that timed out had in fact succeeded, or when it
 * restarts after writing it and before committing the delivery. A read shows each such id once,
 * as first written (its lowest offset among the records read), so pages never repeat one, whichever
 * page the copies would fall on; it keeps only those records' ids. Every other record is written in
 * a transaction, exactly once.
 */
public final class AuditLogReader implements AutoCloseable {

  /** Record timestamps are set by producers; allow for clocks a little apart. */
  private static final long CLOCK_SKEW_MILLIS = Duration.ofMinutes(5).toMillis();

  /** One page: records newest first, and the offset to continue below, or null. */
  public record Page(List<AuditRecord> records, Long nextBefore) {
  }

  /** A record a read keeps for its page, with its place in audit-log. */
  private record Kept(AuditRecord audit, long offset) {
  }

  /** How long a read waits for this instance's own committed audit records to become readable. */
  private static final Duration OWN_WRITES_WAIT = Duration.ofSeconds(2);

  private static final int READERS = 4;
  private static final Set<String> WRITTEN_AT_LEAST_ONCE = Set.of(AuditEventType.ALERT_DELIVERED.wireName(),
      AuditEventType.ALERT_DELIVERY_FAILED.wireName());
  private static final Duration READ_TIMEOUT = Duration.ofSeconds(20);

  private final java.util.concurrent.BlockingQueue<KafkaConsumer<byte[], byte[]>> consumers =
      new java.util.concurrent.ArrayBlockingQueue<>(READERS);
  private final List<KafkaConsumer<byte[], byte[]>> all = new ArrayList<>();
  /** A read can take its whole timeout: one organisation holds at most three of the four readers. */
  private final OrgShares shares = new OrgShares(READERS, "audit log reads");
  private final int partitions;
  private final IntToLongFunction writtenHere;

  /**
   * @param writtenHere per partition, the offset of the last audit record this instance committed
   *     (-1 if none): a read waits until it is readable, so an admin sees their own changes
   */
  public AuditLogReader(String bootstrapServers, IntToLongFunction writtenHere) {
    this.writtenHere = writtenHere;
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
    for (int i = 0; i < READERS; i++) {
      KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
          new ByteArrayDeserializer());
      all.add(consumer);
      consumers.add(consumer);
    }
    this.partitions = all.get(0).partitionsFor(Topics.AUDIT_LOG.name(), Duration.ofSeconds(30)).size();
  }

  /**
   * @param from first instant included (epoch millis)
   * @param to first instant excluded
   * @param types event types to keep; empty keeps all
   * @param before only records below this offset (the cursor of the previous page), or null
   */
  public Page read(String orgId, long from, long to, Set<String> types, int limit, Long before) {
    long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
    shares.take(orgId);
    try {
      KafkaConsumer<byte[], byte[]> consumer;
      try {
        consumer = consumers.poll(READ_TIMEOUT.toMillis() / 2, java.util.concurrent.TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw unavailable("interrupted");
      }
      if (consumer == null) {
        throw unavailable("every audit log reader is busy");
      }
      try {
        return read(consumer, deadline, orgId, from, to, types, limit, before);
      } finally {
        consumers.add(consumer);
      }
    } finally {
      shares.give(orgId);
    }
  }

  private static dev.metering.admin.http.ApiError unavailable(String why) {
    return new dev.metering.admin.http.ApiError(503, "unavailable_error", "the audit log cannot be read right now ("
        + why + "); retry", null);
  }

  private Page read(KafkaConsumer<byte[], byte[]> consumer, long deadline, String orgId, long from, long to,
      Set<String> types, int limit, Long before) {
    TopicPartition partition = new TopicPartition(Topics.AUDIT_LOG.name(), KeyPartitions.of(orgId, partitions));
    consumer.assign(List.of(partition));
    long end = readableEnd(consumer, partition);
    if (before != null) {
      end = Math.min(end, before);
    }
    Map<TopicPartition, OffsetAndTimestamp> start = consumer.offsetsForTimes(
        Map.of(partition, Math.max(0, from - CLOCK_SKEW_MILLIS)));
    long startOffset = start.get(partition) == null ? end : start.get(partition).offset();
    // oldest first: the newest limit + 1 matching records below the end are the page and whether
    // more follow; of an id written again, only its first copy is shown
    ArrayDeque<Kept> newest = new ArrayDeque<>(limit + 1);
    Set<String> outcomes = new HashSet<>();
    consumer.seek(partition, startOffset);
    reading:
    while (consumer.position(partition) < end) {
      if (System.nanoTime() > deadline) {
        // a page missing records it should hold would be silently wrong: refuse instead
        throw unavailable("reading the range took longer than " + Durations.inWords(READ_TIMEOUT));
      }
      for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
        if (record.offset() >= end || record.timestamp() >= to + CLOCK_SKEW_MILLIS) {
          break reading;
        }
        AuditRecord audit = decode(record);
        if (audit == null || !audit.getOrgId().equals(orgId)
            || (WRITTEN_AT_LEAST_ONCE.contains(audit.getEventType()) && !outcomes.add(audit.getId()))) {
          continue;
        }
        if (audit.getTimestamp() >= from && audit.getTimestamp() < to
            && (types.isEmpty() || types.contains(audit.getEventType()))) {
          newest.addLast(new Kept(audit, record.offset()));
          if (newest.size() > limit + 1) {
            newest.removeFirst();
          }
        }
      }
    }
    boolean more = newest.size() > limit;
    if (more) {
      newest.removeFirst();
    }
    List<AuditRecord> page = new ArrayList<>(newest.size());
    newest.descendingIterator().forEachRemaining(kept -> page.add(kept.audit()));
    return new Page(page, more ? newest.peekFirst().offset() : null);
  }

  private static AuditRecord decode(ConsumerRecord<byte[], byte[]> record) {
    try {
      return Topics.AUDIT_LOG.decode(record.value());
    } catch (SerializationException e) {
      ServiceMetrics.unreadable("admin-audit-reader", record, e);
      return null;
    }
  }

  /**
   * The end of what read_committed can read (the last stable offset). A transaction's commit
   * returns before its markers are written, so right after this instance wrote audit records the
   * end can still lie before them for a few milliseconds: wait for them, briefly.
   */
  private long readableEnd(KafkaConsumer<byte[], byte[]> consumer, TopicPartition partition) {
    long own = writtenHere.applyAsLong(partition.partition());
    long deadline = System.nanoTime() + OWN_WRITES_WAIT.toNanos();
    long end = consumer.endOffsets(List.of(partition)).get(partition);
    while (end <= own && System.nanoTime() < deadline) {
      end = consumer.endOffsets(List.of(partition)).get(partition);
    }
    return end;
  }

  @Override
  public void close() {
    all.forEach(KafkaConsumer::close);
  }
}
