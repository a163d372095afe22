package dev.metering.alerts.processing;

import dev.metering.kafka.HighWatermarks;
import dev.metering.metrics.ServiceMetrics;
import dev.metering.records.KeyStatus;
import dev.metering.schemas.Topics;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads the committed latest status of every key in some key-status partitions, when this
 * instance comes to own them. Read to their high watermarks, not to the last stable offset: the
 * previous owner's last transaction, committed just before the rebalance, can still have its
 * markers unwritten, and a status left out here (a suspension) would be decided on as absent (the
 * key never reinstated when its month ends). A transaction open at the time is waited for until it
 * is decided; the partitions' committed offsets, which the same transaction holds, wait for it too.
 */
final class KeyStatusLoader {


  private KeyStatusLoader() {
  }

  static Map<String, KeyStatus> load(String bootstrapServers, Set<Integer> partitionNumbers) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    Map<String, KeyStatus> latest = new HashMap<>();
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
        new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
      List<TopicPartition> partitions = partitionNumbers.stream()
          .map(p -> new TopicPartition(Topics.KEY_STATUS.name(), p)).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = HighWatermarks.of(bootstrapServers, partitions);
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          try {
            KeyStatus status = Topics.KEY_STATUS.decode(record.value());
            if (status == null) {
              latest.remove(record.key());
            } else {
              latest.put(record.key(), status);
            }
          } catch (SerializationException e) {
            ServiceMetrics.unreadable("alert-key-status-loader", record, e);
          }
        }
      }
    }
    return latest;
  }
}
