package dev.metering.kafka;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.utils.Utils;

/**
 * The partition Kafka's Java producer gives a String key by default (murmur2 of its UTF-8 bytes),
 * which every writer of a keyed topic here uses: api-keys and usage-events are co-partitioned by
 * it, and readers find a key's records, stores and owner by it.
 */
public final class KeyPartitions {

  private KeyPartitions() {
  }

  /** The default partitioner's partition for {@code key} among {@code partitions}. */
  public static int of(String key, int partitions) {
    return of(key.getBytes(StandardCharsets.UTF_8), partitions);
  }

  /** The default partitioner's partition for a key serialised as {@code keyBytes}. */
  public static int of(byte[] keyBytes, int partitions) {
    return Utils.toPositive(Utils.murmur2(keyBytes)) % partitions;
  }
}
