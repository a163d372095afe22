package dev.metering.kafka;

import java.util.Map;
import java.util.Objects;

/** How one topic should look: partitions, replication and the topic-level configs we set on purpose. */
public record TopicSpec(String name, int partitions, short replicationFactor, Map<String, String> configs) {

  public TopicSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(configs, "configs");
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be >= 1 for " + name + ", got " + partitions);
    }
    if (replicationFactor < 1) {
      throw new IllegalArgumentException("replicationFactor must be >= 1 for " + name + ", got " + replicationFactor);
    }
    configs = Map.copyOf(configs);
  }
}
