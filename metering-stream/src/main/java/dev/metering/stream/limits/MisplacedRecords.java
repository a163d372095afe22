package dev.metering.stream.limits;

import dev.metering.kafka.KeyPartitions;
import dev.metering.metrics.ServiceMetrics;
import io.micrometer.core.instrument.Counter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds a table record in another partition than its key's. api-keys (and org-budgets) are read
 * beside the usage they limit, in the task of the key's (or org's) partition by Kafka's default
 * partitioner; a record a tool wrote elsewhere (librdkafka's default partitioner differs) lands in
 * a task that never meters its key, so its limits would go unapplied without a word. It is logged
 * and counted in {@code metering_records_misplaced_total{topic, reader}} instead.
 */
public final class MisplacedRecords {

  private static final Logger log = LoggerFactory.getLogger(MisplacedRecords.class);
  private static final int LOGGED = 10;

  private final String topic;
  private final int partitions;
  private final String consequence;
  private final Counter misplaced;
  /** Misplaced records logged so far, by every task, up to {@link #LOGGED}. */
  private final java.util.concurrent.atomic.AtomicInteger logged = new java.util.concurrent.atomic.AtomicInteger();

  /**
   * @param topic the table's topic
   * @param partitions its partition count
   * @param consequence what a misplaced record fails to do, for the log line
   */
  public MisplacedRecords(String topic, int partitions, String consequence) {
    this.topic = topic;
    this.partitions = partitions;
    this.consequence = consequence;
    this.misplaced = ServiceMetrics.misplaced("metering-stream", topic);
  }

  /**
   * Whether {@code key}'s record, read by the task of {@code partition}, belongs to another
   * partition; if so it is logged and counted. A tombstone is never misplaced: deleting the record
   * from the partition it was written to is the remedy.
   */
  public boolean check(String key, Object value, int partition) {
    if (value == null) {
      return false;
    }
    int owner = KeyPartitions.of(key, partitions);
    if (owner == partition) {
      return false;
    }
    misplaced.increment();
    if (logged.get() < LOGGED && logged.incrementAndGet() <= LOGGED) {
      // a restore with the wrong partitioner misplaces most of a table: a few lines say it, the counter how much
      log.error("{} record with key {} is in partition {}, but Kafka's default partitioner puts that key in"
          + " partition {} of {}: {}. Write it again with a producer that partitions by key (murmur2, the Java"
          + " client's default), and delete the copy in partition {} with a tombstone written there.", topic, key,
          partition, owner, partitions, consequence, partition);
    }
    return true;
  }
}
