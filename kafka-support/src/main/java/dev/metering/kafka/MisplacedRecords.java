package dev.metering.kafka;

import dev.metering.metrics.ServiceMetrics;
import io.micrometer.core.instrument.Counter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds records of a keyed topic in another partition than their key's by Kafka's default
 * partitioner, which every writer here uses (a restore with another tool need not: librdkafka's
 * default differs). Such a record is read where its key is not: by a stream task that meters
 * none of the key's usage, or by a view that would order it against the key's own records by
 * offsets of different partitions. Each one is counted in
 * {@code metering_records_misplaced_total{topic, reader}} (at 0 from the start, so an alert on it
 * has a baseline), the first ten of a reader logged with what to do. A tombstone there is ignored
 * too but not counted: deleting the copy from the partition it was written to is the remedy.
 */
public final class MisplacedRecords {

  private static final Logger log = LoggerFactory.getLogger(MisplacedRecords.class);
  private static final int LOGGED = 10;

  private final String reader;
  private final String topic;
  private final String consequence;
  private final Counter counter;
  private final AtomicInteger logged = new AtomicInteger();

  /**
   * @param reader who reads the topic, the counter's {@code reader} tag
   * @param consequence what a misplaced record fails to do, for the log line
   */
  public MisplacedRecords(String reader, String topic, String consequence) {
    this.reader = reader;
    this.topic = topic;
    this.consequence = consequence;
    this.counter = ServiceMetrics.misplaced(reader, topic);
  }

  /**
   * Whether the record with {@code keyBytes}, read from {@code partition} of {@code partitions},
   * belongs to another partition; if so, and it is not a tombstone, it is counted (and logged
   * while few have been).
   */
  public boolean check(byte[] keyBytes, boolean tombstone, int partition, int partitions) {
    if (keyBytes == null) {
      return false;
    }
    int owner = KeyPartitions.of(keyBytes, partitions);
    if (owner == partition) {
      return false;
    }
    if (tombstone) {
      return true; // ignored like any record there, but the remedy is not counted as a fault
    }
    counter.increment();
    if (logged.get() < LOGGED && logged.incrementAndGet() <= LOGGED) {
      // a restore with the wrong partitioner misplaces most of a topic: a few lines say so, the counter how much
      log.error("{} ignores the {} record with key {} in partition {}: Kafka's default partitioner puts that key in"
          + " partition {} of {}, where every writer here puts it; {}. Write it again with a producer that"
          + " partitions by key (murmur2, the Java client's default), and delete this copy with a tombstone in"
          + " partition {}.{}", reader, topic, new String(keyBytes, StandardCharsets.UTF_8), partition, owner,
          partitions, consequence, partition,
          logged.get() == LOGGED ? " Further ones are counted in metering_records_misplaced_total only." : "");
    }
    return true;
  }
}
