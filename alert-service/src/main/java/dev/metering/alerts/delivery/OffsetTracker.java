package dev.metering.alerts.delivery;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Which offsets may be committed while deliveries finish out of order: per partition, everything
 * below the oldest delivery still in flight.
 */
final class OffsetTracker {

  private final Map<TopicPartition, TreeSet<Long>> inFlight = new HashMap<>();
  private final Map<TopicPartition, Long> nextToCommit = new HashMap<>();
  private int total;

  synchronized void started(TopicPartition partition, long offset) {
    inFlight.computeIfAbsent(partition, p -> new TreeSet<>()).add(offset);
    nextToCommit.merge(partition, offset + 1, Math::max);
    total++;
  }

  synchronized void done(TopicPartition partition, long offset) {
    TreeSet<Long> offsets = inFlight.get(partition);
    if (offsets != null && offsets.remove(offset)) {
      total--;
    }
  }

  synchronized int inFlight() {
    return total;
  }

  synchronized Map<TopicPartition, OffsetAndMetadata> committable() {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    nextToCommit.forEach((partition, next) -> {
      TreeSet<Long> pending = inFlight.get(partition);
      offsets.put(partition, new OffsetAndMetadata(pending == null || pending.isEmpty() ? next : pending.first()));
    });
    return offsets;
  }

  synchronized void forget(java.util.Collection<TopicPartition> partitions) {
    for (TopicPartition partition : partitions) {
      TreeSet<Long> pending = inFlight.remove(partition);
      if (pending != null) {
        total -= pending.size();
      }
      nextToCommit.remove(partition);
    }
  }
}
