package dev.metering.stream.query;

import dev.metering.schemas.Topics;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.state.HostInfo;

/** What query routing needs to know of the Kafka Streams group: its state, who owns a key, who hosts what. */
interface Cluster {

  KafkaStreams.State state();

  /** The owner of {@code key} in {@code store}'s partitioning; null while no instance does (rebalancing). */
  Owner owner(String store, String key);

  /** Every instance of the group with the usage-events partitions active on it. */
  List<Instance> instances();

  /** Where a key's partition is active and where it has standby copies. */
  record Owner(int partition, HostInfo active, Set<HostInfo> standbys) {
  }

  record Instance(HostInfo host, Set<Integer> usagePartitions) {
  }

  /** The group {@code streams} belongs to, as its metadata says. */
  static Cluster of(KafkaStreams streams) {
    return new Cluster() {
      @Override
      public KafkaStreams.State state() {
        return streams.state();
      }

      @Override
      public Owner owner(String store, String key) {
        KeyQueryMetadata owner = streams.queryMetadataForKey(store, key, Serdes.String().serializer());
        if (owner == null || KeyQueryMetadata.NOT_AVAILABLE.equals(owner) || owner.activeHost() == null) {
          return null;
        }
        return new Owner(owner.partition(), owner.activeHost(), owner.standbyHosts());
      }

      @Override
      public List<Instance> instances() {
        return streams.metadataForAllStreamsClients().stream()
            .map(instance -> new Instance(instance.hostInfo(), instance.topicPartitions().stream()
                .filter(tp -> tp.topic().equals(Topics.USAGE_EVENTS.name()))
                .map(TopicPartition::partition)
                .collect(Collectors.toSet())))
            .toList();
      }
    };
  }
}
