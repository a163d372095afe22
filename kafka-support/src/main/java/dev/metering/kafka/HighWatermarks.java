package dev.metering.kafka;

import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Where to read a topic to when a read must include everything already written to it. Not a
 * read_committed consumer's end offsets, the last stable offset: a transaction's commit returns
 * before its markers are written, so records another process has just committed (a previous owner
 * of a partition, before a rebalance) can still lie past it. A read_committed reader that reads on
 * to the high watermark taken here waits those markers out, and any transaction open at the time
 * until it is decided.
 */
public final class HighWatermarks {

  private HighWatermarks() {
  }

  /** The high watermark of each of {@code partitions} now. */
  public static Map<TopicPartition, Long> of(String bootstrapServers, Collection<TopicPartition> partitions) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      return consumer.endOffsets(partitions, Duration.ofSeconds(30));
    }
  }
}
