package dev.metering.stream;

import dev.metering.records.UsageEvent;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.processor.StreamPartitioner;

/**
 * Partitions the org path: usage by org_id, as Kafka Streams' default partitioner would (so records
 * written before this partitioner existed are where they belong), and watermark markers, which
 * have no value, to every partition: each org task must hear every usage-events partition.
 */
final class OrgPartitioner implements StreamPartitioner<String, UsageEvent> {

  @Override
  public Optional<Set<Integer>> partitions(String topic, String key, UsageEvent value, int numPartitions) {
    if (value == null) {
      return Optional.of(IntStream.range(0, numPartitions).boxed().collect(Collectors.toSet()));
    }
    byte[] bytes = key.getBytes(StandardCharsets.UTF_8);
    return Optional.of(Set.of(Utils.toPositive(Utils.murmur2(bytes)) % numPartitions));
  }
}
