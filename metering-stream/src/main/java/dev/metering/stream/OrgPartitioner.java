package dev.metering.stream;

import dev.metering.records.UsageEvent;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.streams.processor.StreamPartitioner;

/**
 * Partitions the org path: usage by org_id with Kafka Streams' default partitioner (an empty
 * answer), exactly where it went before markers existed, and watermark markers, which have no
 * value, to every partition: each org task must hear every usage-events partition.
 */
final class OrgPartitioner implements StreamPartitioner<String, UsageEvent> {

  @Override
  public Optional<Set<Integer>> partitions(String topic, String key, UsageEvent value, int numPartitions) {
    if (value != null) {
      return Optional.empty();
    }
    return Optional.of(IntStream.range(0, numPartitions).boxed().collect(Collectors.toSet()));
  }
}
